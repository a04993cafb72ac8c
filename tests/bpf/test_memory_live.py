"""What the running tool keeps in memory once the program is compiled."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def compiler_private_kb(pid: int) -> int:
    """Return the resident kB of the clang and LLVM libraries that only `pid` maps (pages
    another process maps too, such as this test's, are not its to hand back)."""
    total, counting = 0, False
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        fields = line.split()
        if "-" in fields[0] and len(fields) >= 5:  # a mapping's first line
            name = Path(fields[5]).name if len(fields) > 5 else ""
            counting = name.startswith(("libLLVM", "libclang"))
        elif counting and fields[0] in ("Private_Clean:", "Private_Dirty:"):
            total += int(fields[1])
    return total


def test_clang_and_llvm_pages_are_handed_back_after_the_compile() -> None:
    """They held 85 MB of the dashboard's 148 MB, used for the compile only (clean file
    pages: should they be needed again, they come back from the page cache)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tui", "--json", "-i", "0.3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("{")  # compiled, attached, one interval
        assert compiler_private_kb(process.pid) < 16_000
        assert process.stdout.readline().startswith("{")  # and it goes on working
    finally:
        process.terminate()
        process.wait(10)


def test_untrusted_headers_are_refused_before_anything_is_loaded(tmp_path) -> None:
    """The header trust check runs beside the compile now: a tree another user could change
    is still refused, with one line and exit 2 (no program is loaded before it passes)."""
    from tui.sources.kernel_headers import locate_headers

    real = locate_headers().path
    tree = tmp_path / "headers"
    tree.mkdir()
    (tree / "include").symlink_to(real / "include")
    for name in ("arch", "Makefile"):
        if (real / name).exists():
            (tree / name).symlink_to(real / name)
    tree.chmod(0o777)  # writable by everyone
    result = subprocess.run(
        [sys.executable, "-m", "tui", "--json", "-n", "1", "-i", "0.2"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "BCC_KERNEL_SOURCE": str(tree)},
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"syscalltop: refusing kernel headers from BCC_KERNEL_SOURCE {tree}")
    assert "writable by everyone" in line
