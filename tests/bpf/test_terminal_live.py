"""The live dashboard in a real terminal (tmux): signals, hostile names, resize storms."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.terminal import Terminal

pytestmark = pytest.mark.bpf
LEAVE_ALT_SCREEN = b"\x1b[?1049l"
MOUSE_OFF = b"\x1b[?1000l"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_signals_exit_fast_and_restore_the_terminal(tmp_path: Path, signum: int) -> None:
    terminal = Terminal(tmp_path)
    try:
        time.sleep(1.5)
        os.kill(terminal.pid, signum)
        assert terminal.wait_exit(2.0) < 2.0
        time.sleep(0.3)
        tail = terminal.raw.read_bytes()[-400:]
        assert LEAVE_ALT_SCREEN in tail and MOUSE_OFF in tail, tail
        terminal.keys("echo shell-is-back-rc=$?", "Enter")
        time.sleep(0.3)
        assert f"shell-is-back-rc={128 + signum}" in terminal.screen()
    finally:
        terminal.close()


def test_the_dashboard_draws_at_the_terminal_s_width_while_bpf_compiles(tmp_path: Path) -> None:
    """Fds 1 and 2 go to a file during the compile: the dashboard draws on a terminal of its
    own, at its real size, and a stop during the compile exits cleanly."""
    terminal = Terminal(tmp_path, size="132x30", until="palette")  # the footer: first screen
    try:
        footer = next(line for line in terminal.screen().splitlines() if "palette" in line)
        assert len(footer.rstrip()) > 120, terminal.screen()  # 132 columns, not a guessed 80
        os.kill(terminal.pid, signal.SIGTERM)  # most likely still compiling: it ends all the same
        terminal.wait_exit(10.0)
        time.sleep(0.3)
        raw = terminal.raw.read_bytes()
        assert LEAVE_ALT_SCREEN in raw[-400:] and b"Traceback" not in raw, raw[-400:]
        terminal.keys("echo rc=$?", "Enter")
        time.sleep(0.3)
        assert f"rc={128 + signal.SIGTERM}" in terminal.screen()
    finally:
        terminal.close()


def test_restart_right_after_sigkill_works(tmp_path: Path) -> None:
    terminal = Terminal(tmp_path)
    try:
        time.sleep(1.0)
        os.kill(terminal.pid, signal.SIGKILL)
        terminal.wait_exit(2.0)
        again = subprocess.run(
            [sys.executable, "-m", "tui", "--json", "-n", "1", "-i", "0.3"],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPO,
        )
        assert again.returncode == 0, again.stderr
        assert '"syscalls"' in again.stdout
    finally:
        terminal.close()


def test_hostile_process_names_never_reach_the_terminal_raw(
    tmp_path: Path, workload_factory
) -> None:
    # OSC 52 (clipboard write), a CSI colour, and Rich markup, in 15 bytes of comm.
    hostile = "\x1b]52;c;QQ==\x07[b]"
    workload = workload_factory("--hot-seconds=15", name=hostile)
    workload.process.stdin.write("go\n")
    workload.process.stdin.flush()
    terminal = Terminal(tmp_path, "-p", str(workload.pid), size="120x30")
    try:
        deadline = time.monotonic() + 10
        while "x1b]52" not in terminal.screen() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "\\x1b]52;c;QQ==" in terminal.screen()  # shown literally (COMM is cut at 16)
        raw = terminal.raw.read_bytes()
        assert b"\x1b]52" not in raw  # the clipboard sequence never went out
        terminal.keys("q")
        terminal.wait_exit(3.0)
    finally:
        terminal.close()


def test_resize_storm_down_to_20x5_does_not_crash(tmp_path: Path) -> None:
    terminal = Terminal(tmp_path)
    try:
        sizes = [(20, 5), (200, 60), (40, 12), (80, 24), (21, 6), (120, 40)] * 8
        for width, height in sizes:
            subprocess.run(
                [
                    *terminal.tmux,
                    "resize-window",
                    "-t",
                    terminal.name,
                    "-x",
                    str(width),
                    "-y",
                    str(height),
                ],
                check=True,
            )
            time.sleep(0.05)
        time.sleep(1.0)
        os.kill(terminal.pid, 0)  # still alive
        terminal.keys("q")
        terminal.wait_exit(3.0)
    finally:
        terminal.close()


def test_overflowing_buffer_shows_loss_and_prints_nothing_under_the_ui(
    tmp_path: Path, workload_factory
) -> None:
    workload = workload_factory("--hot-seconds=10")
    workload.process.stdin.write("go\n")
    workload.process.stdin.flush()
    terminal = Terminal(tmp_path, "--perf-pages", "1", "--sample", "1", "-p", str(workload.pid))
    try:
        deadline = time.monotonic() + 6
        status = ""
        while time.monotonic() < deadline:
            status = terminal.screen().splitlines()[0]
            if "lost 0" not in status and " lost " in status:
                break
            time.sleep(0.2)
        assert " lost " in status and "lost 0" not in status, status
        assert b"Possibly lost" not in terminal.raw.read_bytes()
        terminal.keys("q")
        terminal.wait_exit(3.0)
    finally:
        terminal.close()


def test_replay_of_a_crafted_recording_never_sends_its_strings_raw(tmp_path: Path) -> None:
    import json

    from tests.unit.test_recording import record_fake

    path = tmp_path / "crafted.jsonl"
    record_fake(path, intervals=6)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    hostile = "\x1b]52;c;QQ==\x07\u009b2J\u202eevil\x1b[2Jpwn"
    for record in records[1:]:
        for entry in record["proc"]:
            entry[3] = hostile
        record["who"] = {str(e[0]): [hostile, hostile, hostile] for e in record["proc"]}
        for sample in record["samples"]:
            sample[11] = hostile
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    terminal = Terminal(tmp_path, "--replay", str(path), size="160x40")
    try:
        deadline = time.monotonic() + 15
        while "x1b]52" not in terminal.screen() and time.monotonic() < deadline:
            time.sleep(0.2)
        terminal.keys("Tab", "Enter")  # the process drill-down shows user and cmdline too
        time.sleep(1.0)
        assert "\\x1b]52;c;QQ==" in terminal.screen()
        raw = terminal.raw.read_bytes()
        for sequence in (b"\x1b]52", "\u009b".encode(), "\u202e".encode(), b"\x1b[2Jpwn"):
            assert sequence not in raw, sequence
        terminal.keys("q")
        terminal.keys("q")
        terminal.wait_exit(5.0)
    finally:
        terminal.close()
