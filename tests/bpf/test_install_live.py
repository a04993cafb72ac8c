"""make install puts `syscalltop` on PATH (any directory, no checkout), with its man page and
completions; make uninstall takes away exactly that."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.bpf


def make(target: str, prefix: Path, appdir: Path) -> subprocess.CompletedProcess[str]:
    cache = prefix.parent / "cache"  # not the machine's caches: uninstall removes it
    env = {
        **os.environ,
        "PREFIX": str(prefix),
        "APPDIR": str(appdir),
        "CACHEDIR": str(cache),
        "SYSCALLTOP_PROGRAM_CACHE": str(cache / "programs"),
    }
    return subprocess.run(
        ["make", "-s", target], cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )


def test_install_runs_from_anywhere_and_uninstall_removes_it_all(tmp_path: Path) -> None:
    os.chmod(tmp_path, 0o700)  # the program cache is only read from root's own directories
    prefix, appdir = tmp_path / "prefix", tmp_path / "opt" / "syscalltop"
    installed = make("install", prefix, appdir)
    assert installed.returncode == 0, installed.stderr[-2000:]
    programs = tmp_path / "cache" / "programs"
    kept = {(path.name, path.stat().st_ino) for path in programs.glob("*.json")}
    assert len(kept) == 3  # both levels, and the one of every -p PID, compiled at install
    command = prefix / "bin" / "syscalltop"
    # From /, with a PATH that has no checkout and no venv in it.
    env = {
        "PATH": f"{prefix / 'bin'}:/usr/bin:/bin",
        "HOME": "/root",
        "LANG": "C.UTF-8",
        "SYSCALLTOP_PROGRAM_CACHE": str(programs),
    }

    def one_interval(*flags: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["syscalltop", "--batch", "-n", "1", "-i", "0.3", *flags],
            cwd="/",
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    batch = one_interval()
    assert batch.returncode == 0, batch.stderr
    assert "SYSCALL" in batch.stdout and "syscalls in" in batch.stdout
    targeted = one_interval("-p", str(os.getpid()))
    assert targeted.returncode == 0, targeted.stderr
    # Its first starts loaded what install kept (a -p start too): no compile wrote an image.
    assert {(path.name, path.stat().st_ino) for path in programs.glob("*.json")} == kept
    assert os.path.realpath(command).startswith(str(appdir))
    page = subprocess.run(
        ["man", "-P", "cat", "syscalltop"],
        env={**env, "MANPATH": str(prefix / "share" / "man"), "MANWIDTH": "80"},
        capture_output=True,
        text=True,
    )
    assert page.returncode == 0 and "SYSCALLTOP(1)" in page.stdout
    for flag in ("--prometheus", "--record", "--doctor", "KEYS", "EXIT STATUS"):
        assert flag in page.stdout, flag
    bash = (prefix / "share/bash-completion/completions/syscalltop").read_text()
    zsh = (prefix / "share/zsh/site-functions/_syscalltop").read_text()
    assert "--keep-running" in bash and "--keep-running" in zsh
    manifest = (appdir / "installed-files").read_text().split()
    assert len([line for line in manifest if not line.startswith("dir:")]) == 4

    removed = make("uninstall", prefix, appdir)
    assert removed.returncode == 0, removed.stderr
    assert not appdir.exists() and not (tmp_path / "cache").exists()
    assert not prefix.exists()  # nor the directories install made for its files


def test_install_and_uninstall_never_touch_an_appdir_that_is_not_theirs(tmp_path: Path) -> None:
    """APPDIR is a common name: `APPDIR=/opt make uninstall` must not empty /opt."""
    decoy = tmp_path / "data"
    decoy.mkdir()
    (decoy / "precious").write_text("keep me")
    for target in ("install", "uninstall"):
        refused = make(target, tmp_path / "prefix", decoy)
        assert refused.returncode != 0
        assert "is not a syscalltop install" in refused.stderr
        assert (decoy / "precious").read_text() == "keep me"
