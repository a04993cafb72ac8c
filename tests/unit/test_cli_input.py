"""Bad input: one line on stderr naming the problem, a non-zero exit, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
        (["-i", "abc"], "argument -i/--interval: 'abc' is not a number"),
        (["-i", "nan"], "argument -i/--interval: 'nan' is not a finite number"),
        (["-d", "nan"], "argument -d/--duration: 'nan' is not a finite number"),
        (["-d", "inf"], "argument -d/--duration: 'inf' is not a finite number"),
        (["--sensitivity=-inf"], "'-inf' is not a finite number"),
        (["-n", "1_000"], "argument -n/--count: '1_000' is not a whole number"),
        # Fractional flags take the same plain digits (float() takes all of these).
        (["-i", "1_0"], "argument -i/--interval: '1_0' is not a number"),
        (["-d", " 2"], "argument -d/--duration: ' 2' is not a number"),
        (["-i", "\u0663"], "is not a number"),
        (["--slow", "\uff11"], "is not a number"),
        (["--sensitivity", "+3"], "argument --sensitivity: '+3' is not a number"),
        (["--cgroup", ".."], "outside the cgroup v2 hierarchy"),
        (["--cgroup", "../../etc"], "outside the cgroup v2 hierarchy"),
        (["--sample", str(2**64)], "argument --sample: '18446744073709551616' is not a whole"),
        (["--sample", str(2**40)], "bad --sample 1099511627776: use 0 (off) to 1073741824"),
        (["--syscall", ","], "empty name in --syscall ','"),
        (["--syscall", "read,,write"], "empty name in --syscall 'read,,write'"),
        (["--syscall", ""], "empty --syscall"),
        (["-u", ""], "empty -u"),
        (["-u", "  "], "empty -u"),
        (["--record", ""], "empty --record"),
        (["--replay", ""], "empty --replay"),
        (["-p", ""], "empty -p"),
        (["--comm", ""], "empty --comm"),
        (["--events", "--json"], "--events and --json do not go together"),
        (["--quiet"], "--quiet and --batch do not go together"),
        (["--json", "--quiet"], "--json and --quiet do not go together"),
        (["--snapshot-dir", "/nonexistent/dir"], "no directory '/nonexistent/dir'"),
        (["--snapshot-dir", ""], "empty --snapshot-dir"),
        (["--prometheus", ""], "empty --prometheus"),
        (["-e", "0"], "bad errno 0"),
        (["-e", "99999"], "bad errno 99999"),
        (["-e", ""], "empty -e"),
        (["-u", "99999999999"], "bad uid 99999999999: use 0 to 4294967294"),
        (["-p", "99999999999"], "bad pid '99999999999'"),
        (
            ["--perf-pages", str(2**20)],
            "bad --perf-pages 1048576: use a power of 2 from 1 to 65536",
        ),
        (["--perf-pages", "3"], "bad --perf-pages 3"),
        (["--prometheus", "1_9993"], "bad --prometheus '1_9993'"),
        (["--prometheus", "127.0.0.1:+80"], "bad --prometheus '127.0.0.1:+80'"),
        (["--prometheus", "127.0.0.1:0"], "bad --prometheus '127.0.0.1:0'"),
        (["-n", "0"], "bad count 0"),
        (["-e", "ENOPE"], "unknown errno 'ENOPE'"),
        (["-u", "no-such-user-xyz"], "unknown user 'no-such-user-xyz'"),
        (["--cgroup", "no/such/group"], "no cgroup v2 directory 'no/such/group'"),
        (["--sample", "-1"], "argument --sample: '-1' is not a whole number"),
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


def test_a_comm_that_is_not_utf8_is_matched_as_its_bytes() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tui", "--ebpf", "--comm", b"\xff\xfeab"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    # The two little-endian words of the comm filter: bytes ff fe 61 62, then NULs.
    assert f"#define FILTER_COMM_LO {0x6261FEFF}ULL" in result.stdout, result.stdout[:400]


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET6) as probe:
        probe.bind(("::", 0))
        return int(probe.getsockname()[1])


DEMO = str(REPO / "tests" / "data" / "recordings" / "demo.jsonl")


def test_an_exporter_open_to_the_network_is_warned_of_once_listening() -> None:
    port = _free_port()
    result = run_cli("--replay", DEMO, "--json", "-n", "1", "--prometheus", f"[::]:{port}")
    assert result.returncode == 0, result.stderr
    (warning,) = [line for line in result.stderr.splitlines() if "warning" in line]
    assert warning.startswith(f"syscalltop: warning: --prometheus [::]:{port} serves every pid")


def test_an_address_that_does_not_resolve_is_one_line_with_no_warning_first() -> None:
    result = run_cli("--replay", DEMO, "--json", "--prometheus", "nosuchhost.invalid:9100")
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("syscalltop: cannot serve metrics on nosuchhost.invalid:9100: ")


def test_loopback_in_every_spelling_is_not_the_network() -> None:
    from tui.export.prometheus import is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert is_loopback("::ffff:127.0.0.1") and is_loopback("127.3.2.1")
    assert not is_loopback("0.0.0.0") and not is_loopback("::") and not is_loopback("10.0.0.1")
    assert not is_loopback("::ffff:10.0.0.1") and not is_loopback("db.example")


def test_a_damaged_recording_replays_what_came_before_and_exits_1(tmp_path) -> None:
    lines = Path(DEMO).read_text().splitlines(keepends=True)
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text("".join(lines[:4]) + lines[4][: len(lines[4]) // 2])  # cut mid-line
    result = run_cli("--replay", str(damaged), "--json")
    assert result.returncode == 1
    assert len(result.stdout.splitlines()) == 2  # three whole readings: two intervals
    (warning,) = result.stderr.splitlines()
    assert warning.startswith(f"syscalltop: warning: {damaged}:5: ")
    whole = run_cli("--replay", DEMO, "--json", "-n", "1")
    assert whole.returncode == 0


def test_json_is_a_kind_of_batch_so_the_two_go_together() -> None:
    result = run_cli("--batch", "--json", "--replay", DEMO, "-n", "1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('{"time":')
