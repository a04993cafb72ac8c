"""What an fd points at, from /proc, and no look-up for processes known to have ended."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tui.sources import fds as fds_module
from tui.sources.fds import FdResolver


def test_an_open_file_resolves_to_its_path(tmp_path: Path) -> None:
    path = tmp_path / "data.txt"
    with open(path, "w") as handle:
        assert FdResolver().resolve(os.getpid(), handle.fileno()) == str(path)


def test_a_process_known_to_have_ended_is_not_looked_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    real_readlink = os.readlink

    def counting_readlink(path: str) -> str:
        asked.append(path)
        return real_readlink(path)

    monkeypatch.setattr(fds_module.os, "readlink", counting_readlink)
    with open(tmp_path / "data.txt", "w") as handle:
        resolver = FdResolver(ended=frozenset({os.getpid()}))
        assert resolver.resolve(os.getpid(), handle.fileno()) is None
        assert asked == []
        assert FdResolver().resolve(os.getpid(), handle.fileno()) == str(tmp_path / "data.txt")
        assert asked == [f"/proc/{os.getpid()}/fd/{handle.fileno()}"]
