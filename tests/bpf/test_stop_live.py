"""Every way a run is told to stop ends it promptly: a vanished terminal, and signals that
arrive while bcc's perf callback runs (headless, sampling every call of a hot loop)."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.bpf.test_cli_live import SYSCALLTOP
from tests.conftest import REPO

pytestmark = pytest.mark.bpf

# SIGINT is ignored in background jobs of a script; these runs are sent it, so restore it.
DEFAULT_SIGINT = ("env", "--default-signal=INT")


def wait_until(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def exit_time(process: subprocess.Popen[bytes], limit_s: float) -> float:
    """Return how long the process took to exit; kill it and fail past `limit_s`."""
    start = time.monotonic()
    try:
        process.wait(limit_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
        raise AssertionError(f"still running {limit_s} s after being told to stop") from None
    return time.monotonic() - start


def test_dashboard_on_a_terminal_that_vanishes_exits_129_and_never_spins(tmp_path: Path) -> None:
    master, slave = pty.openpty()
    os.set_blocking(master, True)
    # A new session: the pty is not its controlling terminal, as for a leftover dashboard
    # whose SSH session is gone (no SIGHUP is sent; only the terminal's EOF says so).
    process = subprocess.Popen(
        [*SYSCALLTOP, "-i", "0.5"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=REPO,
        start_new_session=True,
        env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"},
    )
    os.close(slave)
    shown = bytearray()

    def drain() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            shown.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        wait_until(lambda: b"Top syscalls" in shown, 30, "the dashboard to draw")
        time.sleep(1.0)  # a live interval or two
        os.close(master)
        took = exit_time(process, 10)
        assert process.returncode == 129
        assert took < 2.0, f"took {took:.2f} s to notice the terminal was gone"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def _first_line_written(path: Path, lines: int) -> bool:
    return path.exists() and path.read_bytes().count(b"\n") >= lines


@pytest.mark.parametrize(
    ("mode", "signum"),
    [
        ("json", signal.SIGTERM),
        ("record", signal.SIGTERM),
        ("json", signal.SIGINT),
        ("batch", signal.SIGHUP),
    ],
)
def test_signals_under_sample_every_call_always_end_a_headless_run(
    tmp_path: Path, workload_factory, mode: str, signum: int
) -> None:
    load = workload_factory("--hot-seconds=300")
    assert load.process.stdin is not None
    load.process.stdin.write("go\n")
    load.process.stdin.flush()
    rounds = 10 if signum == signal.SIGTERM else 4
    times = []
    for round_number in range(rounds):
        out = tmp_path / f"out-{round_number}"
        record = tmp_path / f"rec-{round_number}.jsonl"
        args = {
            "json": ["--json"],
            "batch": ["--batch"],
            "record": ["--quiet", "--record", str(record)],
        }[mode]
        with out.open("wb") as stdout, (tmp_path / f"err-{round_number}").open("wb") as stderr:
            process = subprocess.Popen(
                [
                    *DEFAULT_SIGINT,
                    *SYSCALLTOP,
                    *args,
                    "--sample",
                    "1",
                    "-i",
                    "0.3",
                    "--comm",
                    load.name,
                ],
                stdout=stdout,
                stderr=stderr,
                cwd=REPO,
            )
        try:
            watched = record if mode == "record" else out
            # Attached and reading: a header plus a reading, or a printed interval.
            wait_until(lambda w=watched: _first_line_written(w, 2), 30, "the first interval")
            process.send_signal(signum)
            times.append(exit_time(process, 10))
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)
        errors = (tmp_path / f"err-{round_number}").read_text()
        assert process.returncode == 128 + signum, errors
        assert "Exception ignored" not in errors and "Traceback" not in errors, errors
        if mode == "record":
            lines = record.read_bytes().split(b"\n")
            assert lines[-1] == b"" and len(lines) >= 3  # whole lines, nothing half-written
    assert max(times) < 2.0, times


def _blocked_in(pid: int, syscall_nr: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/syscall").read_text().split()
    except OSError:
        return False
    return bool(fields) and fields[0] == str(syscall_nr)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize("writer", [False, True])
def test_a_replay_waiting_on_a_pipe_ends_on_a_signal(
    tmp_path: Path, signum: int, writer: bool
) -> None:
    """`--replay <(ssh host cat rec)`: while the recording is read (a FIFO with no writer yet,
    or one that sends nothing), SIGTERM and Ctrl-C were retried away; only SIGKILL ended it."""
    fifo = tmp_path / "recording.fifo"
    os.mkfifo(fifo)
    process = subprocess.Popen(
        [*DEFAULT_SIGINT, *SYSCALLTOP, "--replay", str(fifo), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    held = None
    try:
        if writer:
            held = os.open(fifo, os.O_WRONLY)  # opened, never written: the reader waits in read
            wait_until(lambda: _blocked_in(process.pid, 0), 60, "the replay to wait in read")
        else:
            wait_until(lambda: _blocked_in(process.pid, 257), 60, "the replay to wait in openat")
        process.send_signal(signum)
        assert exit_time(process, 2.0) < 2.0
        assert process.returncode == 128 + signum
    finally:
        if held is not None:
            os.close(held)
        if process.poll() is None:
            process.kill()
            process.wait(10)
