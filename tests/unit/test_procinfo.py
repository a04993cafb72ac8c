"""A reused pid is a new process: names come from /proc now, cmdline from (pid, start time)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tui.model.sanitize import safe_text
from tui.procinfo import ProcessInfo, read_process, send_signal, strace_command


def test_reused_pid_is_described_afresh(monkeypatch) -> None:
    """A new start time is a new process, even with the same command line: its user and
    seccomp mode are looked up again, nothing is kept from the dead one."""
    info = ProcessInfo()
    world = {"proc": (100, 1, "daemon", "daemon --serve"), "seccomp": "disabled"}
    monkeypatch.setattr("tui.procinfo.read_process", lambda pid: world["proc"])
    monkeypatch.setattr("tui.procinfo.seccomp_mode", lambda pid: world["seccomp"])
    first = info.describe(os.getpid(), 0, "x")
    assert (first.cmdline, first.seccomp) == ("daemon --serve", "disabled")
    world["proc"], world["seccomp"] = (200, 1, "daemon", "daemon --serve"), "filter"
    second = info.describe(os.getpid(), 0, "x")  # same pid and argv, started later
    assert (second.cmdline, second.seccomp) == ("daemon --serve", "filter")
    world["seccomp"] = "strict"  # the same process: its identity stays cached
    assert info.describe(os.getpid(), 0, "x").seccomp == "filter"


def test_read_process_reads_a_live_process_and_fails_for_a_gone_one() -> None:
    child = subprocess.Popen(["sleep", "30"])
    try:
        wait_for_cmdline(child.pid, b"30")
        start_ticks, ppid, comm, cmdline = read_process(child.pid)
        assert (ppid, comm, cmdline) == (os.getpid(), "sleep", "sleep 30")
        boot_s = time.clock_gettime(time.CLOCK_BOOTTIME)
        assert 0 < start_ticks <= boot_s * os.sysconf("SC_CLK_TCK") + 1
    finally:
        child.kill()
        child.wait()
    with pytest.raises(OSError):
        read_process(child.pid)


@pytest.mark.parametrize("name", [b"a) b (c) 1 2", b"x)\n(y", b"))((", b" \x1b[2J"])
def test_the_comm_in_stat_is_the_comm_of_comm(name: bytes) -> None:
    """read_process takes comm from /proc/PID/stat: parentheses, spaces, newlines and
    escapes inside it neither cut it short nor shift the fields after it."""
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import ctypes,sys; ctypes.CDLL(None).prctl(15, {name!r}, 0, 0, 0); "
            "print(flush=True); sys.stdin.readline()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == b"\n"  # renamed
        with open(f"/proc/{child.pid}/comm", "rb") as comm_file:
            kernel_comm = comm_file.read().rstrip(b"\n")
        assert kernel_comm == name
        _, ppid, comm, _ = read_process(child.pid)
        assert (ppid, comm) == (os.getpid(), safe_text(kernel_comm, 64))
    finally:
        child.kill()
        child.wait()


def test_comm_is_read_live_after_a_rename() -> None:
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import ctypes,sys; sys.stdin.readline(); "
            "ctypes.CDLL(None).prctl(15, b'renamed-now', 0, 0, 0); sys.stdin.readline()",
        ],
        stdin=subprocess.PIPE,
        text=True,
    )
    try:
        info = ProcessInfo()
        before = info.describe(child.pid, 0, "kernel-comm")
        assert before.comm.startswith("python")
        assert child.stdin is not None
        child.stdin.write("\n")
        child.stdin.flush()
        # The limit only ends a hung test: a busy machine may take its time to rename.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if info.describe(child.pid, 0, "kernel-comm").comm == "renamed-now":
                break
            time.sleep(0.02)
        assert info.describe(child.pid, 0, "kernel-comm").comm == "renamed-now"
    finally:
        child.kill()
        child.wait()


def test_dead_process_keeps_the_kernel_comm() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert ProcessInfo().describe(child.pid, 0, "from-kernel").comm == "from-kernel"


def test_cache_is_bounded() -> None:
    info = ProcessInfo(cache_limit=2)
    for pid in (os.getpid(), os.getppid(), 1):
        info.describe(pid, 0, "x")
    assert len(info._by_pid) == 2


def test_strace_command_follows_the_process_and_the_chosen_syscall() -> None:
    assert strace_command(4242) == "strace -f -p 4242"
    assert strace_command(4242, "openat") == "strace -f -p 4242 -e trace=openat"


def test_signals_go_to_the_process_but_never_to_init_or_the_tool_itself() -> None:
    assert send_signal(1, "init", signal.SIGTERM) == ("not signalling pid 1", False)
    assert send_signal(os.getpid(), "me", signal.SIGKILL)[1] is False
    child = subprocess.Popen(["sleep", "60"])
    try:
        line, sent = send_signal(child.pid, "sleep", signal.SIGTERM)
        assert (line, sent) == (f"sent SIGTERM to sleep[{child.pid}]", True)
        assert child.wait(timeout=10) == -signal.SIGTERM
    finally:
        child.kill()
        child.wait()


def wait_for_cmdline(pid: int, part: bytes, timeout_s: float = 30.0) -> None:
    """Wait until /proc/<pid>/cmdline holds `part` (exec sets argv after Popen returns)."""
    deadline = time.monotonic() + timeout_s
    while part not in Path(f"/proc/{pid}/cmdline").read_bytes():
        assert time.monotonic() < deadline, f"no {part!r} in {pid}'s cmdline"
        time.sleep(0.01)


def test_a_process_that_execs_is_shown_with_its_new_command_line() -> None:
    """A fork that execs keeps its pid and start time: its cmdline is read again, not kept
    from before the exec (a shell's child running something else must not show the shell)."""
    info = ProcessInfo()
    script = "import os, sys; sys.stdin.readline(); os.execvp('sleep', ['sleep', '31'])"
    child = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE)
    try:
        wait_for_cmdline(child.pid, b"execvp")
        before = info.describe(child.pid, os.getuid(), "python3")
        assert "execvp" in before.cmdline
        assert child.stdin is not None
        child.stdin.write(b"go\n")
        child.stdin.flush()
        wait_for_cmdline(child.pid, b"sleep\x0031")  # not in the script's own text
        after = info.describe(child.pid, os.getuid(), "sleep")
        assert (after.comm, after.cmdline) == ("sleep", "sleep 31")
    finally:
        child.kill()
        child.wait()


def test_an_orphan_is_shown_with_its_new_parent() -> None:
    """A process whose parent exits is re-parented: PPID follows it, it is not kept."""
    info = ProcessInfo()
    shell = subprocess.Popen(
        ["sh", "-c", "sleep 30 & echo $!; read x"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert shell.stdout is not None and shell.stdin is not None
    orphan = int(shell.stdout.readline())
    try:
        wait_for_cmdline(orphan, b"sleep\x0030")
        assert info.describe(orphan, os.getuid(), "sleep").ppid == shell.pid
        shell.stdin.write(b"go\n")
        shell.stdin.flush()
        shell.wait()
        new_parent = int(Path(f"/proc/{orphan}/stat").read_text().rsplit(")", 1)[1].split()[1])
        assert new_parent != shell.pid
        assert info.describe(orphan, os.getuid(), "sleep").ppid == new_parent
    finally:
        os.kill(orphan, signal.SIGKILL)  # the pid echoed by the shell we started


def test_a_process_the_reading_marks_gone_is_not_looked_up_again() -> None:
    """Its pid may already belong to a new process: the kernel's comm, no cmdline."""
    info = ProcessInfo()
    child = subprocess.Popen(["sleep", "30"])
    try:
        # Popen returns once exec has closed the child's fds: argv may come a moment later.
        wait_for_cmdline(child.pid, b"30")
        alive = info.describe(child.pid, os.getuid(), "was-here")
        assert alive.comm == "sleep" and "30" in alive.cmdline
        gone = info.describe(child.pid, os.getuid(), "was-here", gone=True)
        assert (gone.comm, gone.cmdline) == ("was-here", "")
    finally:
        child.kill()
        child.wait()
