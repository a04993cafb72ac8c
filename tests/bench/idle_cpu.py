"""Measure the dashboard's own CPU while the machine is idle: `python -m tests.bench.idle_cpu`.

Starts `syscalltop` in a tmux window (a real terminal), times its first live frame (the
status line shows a rate: two readings made, load and attach included), waits for
warm-up, then reads the process's utime+stime from /proc over a window and prints the share
of one CPU and its peak RSS. It starts twice with a program cache of its own: the first
start compiles the program and keeps its image (its first frame and peak are reported too),
the measured one loads that image, as every later start on a machine does.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def first_frame_s(session: str, started: float, timeout_s: float = 30.0) -> float:
    """Return seconds from `started` until the screen shows a live rate ("calls/s")."""
    while time.monotonic() - started < timeout_s:
        screen = subprocess.run(
            ["tmux", "capture-pane", "-t", session, "-p"], capture_output=True, text=True
        ).stdout
        if "calls/s" in screen:
            return time.monotonic() - started
        time.sleep(0.02)
    raise RuntimeError("no live frame")


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Return a process's RSS now (VmRSS) or at its peak (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def wait_for_pid(pid_file: Path, timeout_s: float = 20.0) -> int:
    """Return the dashboard's pid, written by the shell that becomes it (never found by name)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        written = pid_file.read_text().strip() if pid_file.exists() else ""
        if written.isdigit():
            return int(written)
        time.sleep(0.2)
    raise RuntimeError("dashboard did not start")


def start_dashboard(args: argparse.Namespace, cache: Path, tag: str) -> tuple[str, int, float]:
    """Start the dashboard in a tmux session of our own; return it, the pid and the first
    live frame's time (s after the command)."""
    width, height = args.size.split("x")
    # A session of our own: other runs (and the user's sessions) are never touched.
    session = f"syscalltop-idle-{os.getpid()}-{tag}"
    pid_file = Path(tempfile.mkdtemp()) / "dashboard.pid"
    started = time.monotonic()
    subprocess.run(
        [
            "tmux",
            "new-session",
            "-d",
            "-s",
            session,
            "-x",
            width,
            "-y",
            height,
            f"cd {REPO} && echo $$ > {pid_file} && "
            f"exec env -u PYTHONDONTWRITEBYTECODE SYSCALLTOP_PROGRAM_CACHE={cache} "
            f"{sys.executable} -m tui --interval {args.interval}",
        ],
        check=True,
    )
    try:
        pid = wait_for_pid(pid_file)
        return session, pid, first_frame_s(session, started)
    except BaseException:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
        raise


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--window", type=float, default=30.0)
    parser.add_argument("--size", default="120x40")
    parser.add_argument("--interval", default="1")
    args = parser.parse_args()
    # As on a user's machine: our modules' bytecode cached (Python writes it at the first
    # run; this sandbox sets PYTHONDONTWRITEBYTECODE, which made every start compile them).
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-m", "compileall", "-q", "tui"], cwd=REPO, env=environment)
    # A program cache of our own, empty: the first start compiles (and keeps the image), as
    # the first start on a machine does; the measured start loads the kept image.
    cache = Path(tempfile.mkdtemp(prefix="syscalltop-programs-"))
    try:
        session, pid, compiled_first = start_dashboard(args, cache, "compile")
        time.sleep(2)  # past the compile's page-out: its peak is the compile's
        compiled_peak = rss_mb(pid, "VmHWM")
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
        time.sleep(1)
        session, pid, first = start_dashboard(args, cache, "kept")
        try:
            time.sleep(args.warmup)
            start_cpu, start = cpu_seconds(pid), time.monotonic()
            time.sleep(args.window)
            used = cpu_seconds(pid) - start_cpu
            elapsed = time.monotonic() - start
            print(
                f"dashboard idle at {args.interval} s interval, {args.size}: "
                f"{100 * used / elapsed:.2f}% of one CPU over {elapsed:.0f} s; first live "
                f"frame {first:.2f} s after the command with the kept program image "
                f"({compiled_first:.2f} s at the first start, which compiles it); RSS "
                f"{rss_mb(pid):.0f} MB (peak {rss_mb(pid, 'VmHWM'):.0f} MB; "
                f"{compiled_peak:.0f} MB at the first start)"
            )
        finally:
            subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
