"""Bad input: one line on stderr naming the problem, a non-zero exit, no traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args], capture_output=True, text=True, timeout=60, cwd=REPO
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--syscall", "getppid,notacall"], "unknown syscall 'notacall' for x86_64"),
        (["-p", "999999999"], "no process with pid 999999999"),
        (["-p", "12,abc"], "bad pid 'abc'"),
        (["-t", "999999999"], "no thread with tid 999999999"),
        (["-i", "0"], "bad interval 0.0"),
        (["-i", "abc"], "argument -i/--interval: invalid float value: 'abc'"),
        (["-n", "0"], "bad count 0"),
        (["-e", "ENOPE"], "unknown errno 'ENOPE'"),
        (["-u", "no-such-user-xyz"], "unknown user 'no-such-user-xyz'"),
        (["--cgroup", "no/such/group"], "no cgroup v2 directory 'no/such/group'"),
        (["--sample", "-1"], "bad --sample -1"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], expected: str) -> None:
    result = run_cli("--batch", *args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("syscalltop: ")
    assert expected in lines[0]
    assert result.stdout == ""


def test_list_prints_decoded_names() -> None:
    result = run_cli("--list")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert "  39 getpid" in lines
    assert " 257 openat" in lines
    assert len(lines) > 300


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("syscalltop ")
