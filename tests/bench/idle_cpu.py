"""Measure the dashboard's own CPU while the machine is idle: `python -m tests.bench.idle_cpu`.

Starts `syscalltop` in a tmux window (a real terminal), waits for warm-up, then reads the
process's utime+stime from /proc over a window and prints the share of one CPU.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SESSION = "syscalltop-idle-bench"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def find_dashboard_pid(timeout_s: float = 20.0) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = subprocess.run(
            ["pgrep", "-f", "-n", "python -m tui --interval"], capture_output=True, text=True
        )
        if result.stdout.strip():
            return int(result.stdout.split()[0])
        time.sleep(0.2)
    raise RuntimeError("dashboard did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--window", type=float, default=30.0)
    parser.add_argument("--size", default="120x40")
    parser.add_argument("--interval", default="1")
    args = parser.parse_args()
    width, height = args.size.split("x")
    subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)
    subprocess.run(
        [
            "tmux",
            "new-session",
            "-d",
            "-s",
            SESSION,
            "-x",
            width,
            "-y",
            height,
            f"cd {REPO} && {sys.executable} -m tui --interval {args.interval}",
        ],
        check=True,
    )
    try:
        pid = find_dashboard_pid()
        time.sleep(args.warmup)
        start_cpu, start = cpu_seconds(pid), time.monotonic()
        time.sleep(args.window)
        used = cpu_seconds(pid) - start_cpu
        elapsed = time.monotonic() - start
        print(
            f"dashboard idle at {args.interval} s interval, {args.size}: "
            f"{100 * used / elapsed:.2f}% of one CPU over {elapsed:.0f} s"
        )
    finally:
        subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
