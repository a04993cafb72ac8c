"""`make incidents`: six incidents an on-call engineer meets, each run beside the dashboard in
tmux; the keys README lists are pressed and the screen must then name the answer.

Not timed: each incident says what the screen must show (process, syscall, errno or target)
after at most three keys from the home screen. The screens are kept in
tests/bench/results/incidents/ to look at.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.terminal import Terminal

RESULTS = Path(__file__).resolve().parent / "results" / "incidents"

# Each workload names itself (comm) so the screen can be checked for it; none is found by name.
PRELUDE = "import os, sys, time\nopen('/proc/self/comm', 'w').write(sys.argv[1])\n"

MISSING_CONFIG = """
while True:
    try:
        open('/etc/myapp/config.yaml')
    except FileNotFoundError:
        time.sleep(0.002)
"""

RETRY_STORM = """
import socket
while True:
    s = socket.socket()
    try:
        s.connect(('127.0.0.1', 5999))
    except ConnectionRefusedError:
        pass
    s.close()
    time.sleep(0.002)
"""

STUCK_READER = """
import threading
r, w = os.pipe()
def reader():
    open('/proc/thread-self/comm', 'w').write('pipe-reader')
    os.read(r, 1)  # nobody ever writes
threading.Thread(target=reader, daemon=True).start()
while True:
    time.sleep(0.5)
"""

PTRACE_BURST = """
import ctypes, subprocess
time.sleep(float(sys.argv[2]))
libc = ctypes.CDLL(None, use_errno=True)
while True:
    libc.ptrace(16, 1, 0, 0)  # PTRACE_ATTACH to init: refused (EPERM), as an attacker's probe
    for _ in range(20):
        subprocess.run(['/bin/true'])
    time.sleep(0.2)
"""

NOISY_NEIGHBOUR = """
getppid = os.getppid
while True:
    getppid()
"""

DSYNC_WRITER = """
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_DSYNC, 0o600)
block = b'x' * 4096
while True:
    os.pwrite(fd, block, 0)
"""


@dataclass(frozen=True)
class Incident:
    """A workload, the keys pressed from the home screen, and what the screen must then show."""

    name: str
    comm: str
    code: str
    keys: tuple[str, ...]
    answers: tuple[str, ...]
    args: tuple[str, ...] = ()
    before_tool: bool = True  # started before the dashboard (else after its first frame)


def incidents(scratch: Path) -> tuple[Incident, ...]:
    """Return the six incidents; `scratch` holds the dsync writer's file."""
    return (
        Incident(
            "missing config file",
            "myapp",
            MISSING_CONFIG,
            ("e", "Enter"),
            ("myapp", "openat", "ENOENT", "/etc/myapp/config.yaml"),
        ),
        Incident(
            "retry storm on a closed port",
            "retry-client",
            RETRY_STORM,
            ("e", "Enter"),
            ("retry-client", "connect", "ECONNREFUSED", "127.0.0.1:5999"),
        ),
        Incident(
            "thread stuck in a pipe read",
            "stuck-app",
            STUCK_READER,
            ("i",),
            ("stuck-app", "read", "<pipe:["),
        ),
        Incident(
            "ptrace and execve burst",
            "tracer",
            PTRACE_BURST,
            ("a", "Enter"),
            ("tracer", "ptrace", "EPERM"),
            args=("4",),
            before_tool=False,
        ),
        Incident(
            "noisy neighbour",
            "noisy",
            NOISY_NEIGHBOUR,
            (),
            ("noisy", "getppid"),
        ),
        Incident(
            "dsync writer",
            "dsync-writer",
            DSYNC_WRITER,
            ("Tab", "Enter"),
            ("dsync-writer", "pwrite64", "dsync.dat"),
            args=(str(scratch / "dsync.dat"),),
        ),
    )


def start_workload(incident: Incident) -> subprocess.Popen[bytes]:
    """Start the workload in a process group of its own (so it is ended by its own pid)."""
    return subprocess.Popen(
        [sys.executable, "-c", PRELUDE + incident.code, incident.comm, *incident.args],
        start_new_session=True,
        stdin=subprocess.DEVNULL,
    )


def run(incident: Incident, scratch: Path, size: str, settle_s: float) -> tuple[bool, str]:
    """Run one incident; return whether every answer was on screen, and the screen."""
    workload = start_workload(incident) if incident.before_tool else None
    terminal = Terminal(scratch, "--interval", "1", size=size)
    try:
        if workload is None:
            time.sleep(2.0)  # the dashboard runs first, the burst comes later
            workload = start_workload(incident)
        time.sleep(settle_s)
        for key in incident.keys:
            terminal.keys(key)
            time.sleep(0.6)
        time.sleep(1.5)
        screen = terminal.screen()
        terminal.keys("q", "q", "q")
        terminal.wait_exit(5.0)
    finally:
        terminal.close()
        if workload is not None:
            os.killpg(workload.pid, signal.SIGKILL)  # the group this script made for it
            workload.wait()
    return all(answer in screen for answer in incident.answers), screen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="120x40", help="terminal size (default 120x40)")
    parser.add_argument("--settle", type=float, default=6.0, help="seconds before the keys")
    parser.add_argument("--only", help="run only the incident whose name contains this")
    options = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    failed = 0
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        for incident in incidents(scratch):
            if options.only and options.only not in incident.name:
                continue
            found, screen = run(incident, scratch, options.size, options.settle)
            slug = incident.name.replace(" ", "-")
            (RESULTS / f"{slug}-{options.size}.txt").write_text(screen)
            keys = " ".join(incident.keys) or "(none: the home screen)"
            missing = [answer for answer in incident.answers if answer not in screen]
            verdict = "ok" if found else f"MISSING {missing}"
            print(f"{incident.name:32} keys: {keys:20} {verdict}")
            failed += not found
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
