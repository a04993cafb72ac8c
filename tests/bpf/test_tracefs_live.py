"""The shipped prototype table agrees with this kernel's own tracefs format files, and the
live source uses tracefs when it is there (root: it may mount tracefs for the test)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui.model.prototypes import parse_format, shipped_prototypes
from tui.sources.tracefs import kernel_prototypes

pytestmark = pytest.mark.bpf
TRACING = Path("/sys/kernel/tracing")


@pytest.fixture
def tracefs() -> Iterator[Path]:
    """Mount tracefs if it is not (unmounted again only if this mounted it)."""
    mounted_here = False
    if not (TRACING / "events").is_dir():
        subprocess.run(["mount", "-t", "tracefs", "tracefs", str(TRACING)], check=True)
        mounted_here = True
    try:
        yield TRACING / "events" / "syscalls"
    finally:
        if mounted_here:
            subprocess.run(["umount", str(TRACING)], check=False)


def test_shipped_table_matches_every_format_file_of_this_kernel(tracefs: Path) -> None:
    shipped = shipped_prototypes()
    formats = sorted(tracefs.glob("sys_enter_*/format"))
    assert len(formats) > 300
    for path in formats:
        prototype = parse_format(path.read_text())
        assert shipped.get(prototype.name) == prototype, prototype.name
    live, source = kernel_prototypes()
    assert source.startswith("tracefs") and live["openat"] == shipped["openat"]


def test_without_tracefs_the_shipped_table_is_used(tmp_path: Path) -> None:
    prototypes, source = kernel_prototypes((tmp_path / "no-tracefs",))
    assert source == "shipped table"
    assert [arg.name for arg in prototypes["connect"].args] == ["fd", "uservaddr", "addrlen"]
    assert os.path.isdir(tmp_path)
