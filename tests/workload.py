"""A workload tests control: renames itself, then makes exact numbers of chosen syscalls.

Protocol on stdin/stdout: prints "ready" once renamed, waits for a line ("go"), does the
work, prints "done", then waits for a line or EOF before exiting. Everything it does between
"go" and "done" is listed by its flags, so tests can assert exact counts.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import sys
import time

PR_SET_NAME = 15
_libc = ctypes.CDLL(None, use_errno=True)


def set_comm(name: str) -> None:
    """Rename the calling thread (the comm BPF sees), as `prctl(PR_SET_NAME)` does."""
    _libc.prctl(PR_SET_NAME, name.encode()[:15], 0, 0, 0)


def raw_syscall(number: int) -> int:
    """Make a syscall by number with no arguments; return its raw result."""
    return int(_libc.syscall(ctypes.c_long(number)))


def paced_getppid(rate: float, seconds: float) -> None:
    """Call getppid at about `rate` per second for `seconds`, in 10 ms slices."""
    per_slice = max(1, round(rate / 100))
    end = time.monotonic() + seconds
    next_slice = time.monotonic()
    while next_slice < end:
        for _ in range(per_slice):
            os.getppid()
        next_slice += 0.01
        time.sleep(max(0.0, next_slice - time.monotonic()))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", required=True)
    parser.add_argument("--getppid", type=int, default=0)
    parser.add_argument("--enoent", type=int, default=0, help="openat calls failing ENOENT")
    parser.add_argument("--sleeps", type=int, default=0)
    parser.add_argument("--sleep-ms", type=float, default=2.0)
    parser.add_argument("--bad-nr", type=int, default=0, help="calls of an out-of-table id")
    parser.add_argument("--rounds", type=int, default=1, help="wait for 'go' this many times")
    parser.add_argument("--phases", default="", help="then RATE:SECONDS,... of paced getppid calls")
    parser.add_argument(
        "--novel",
        type=int,
        default=0,
        help="at the end, this many getuid calls (never made before)",
    )
    parser.add_argument(
        "--hot-seconds",
        type=float,
        default=0.0,
        help="after the counted calls, call getppid for this long",
    )
    args = parser.parse_args()

    set_comm(args.name)
    missing = f"/nonexistent-syscalltop-{os.getpid()}"
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    for _ in range(args.rounds):
        if not sys.stdin.readline():
            return 0
        for _ in range(args.getppid):
            os.getppid()
        for _ in range(args.enoent):
            with contextlib.suppress(FileNotFoundError):
                os.open(missing, os.O_RDONLY)
        for _ in range(args.sleeps):
            time.sleep(args.sleep_ms / 1000)
        for _ in range(args.bad_nr):
            raw_syscall(1000)
        for phase in filter(None, args.phases.split(",")):
            paced_getppid(*map(float, phase.split(":")))
        for _ in range(args.novel):
            os.getuid()
        hot_until = time.monotonic() + args.hot_seconds
        while time.monotonic() < hot_until:
            for _ in range(1000):
                os.getppid()
        sys.stdout.write("done\n")
        sys.stdout.flush()
    sys.stdin.readline()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
