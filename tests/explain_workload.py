"""A workload syscalltop's explain tests do not script call by call: it renames itself, then
fails in the ways an on-call engineer meets (a missing config file, a closed port, a missing
socket, a missing binary), makes one slow call, and opens hostile paths.

    python explain_workload.py NAME MISSING_PATH CLOSED_PORT MISSING_SOCKET MISSING_BINARY

Everything it needs is imported before the rename, so every call after it is one of these.
Prints "ready" after the rename, waits for a line, does the work, prints "done", waits.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import socket
import sys
import time

HOSTILE = [
    b"/tmp/\x1b]52;c;QQ==\x07osc52",
    b"/tmp/\xff\xfe-invalid-utf8",
    b"/tmp/[bold red]markup[/bold red]",
    b"/tmp/" + b"L" * 4000,
]
OPEN_ATTEMPTS = 7


def main() -> int:
    """Do the failures, once told to."""
    name, missing, port, sock, binary = sys.argv[1:6]
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(15, name.encode()[:15], 0, 0, 0)
    print("ready", flush=True)
    sys.stdin.readline()
    for _ in range(OPEN_ATTEMPTS):
        with contextlib.suppress(OSError):
            os.close(os.open(missing, os.O_RDONLY | os.O_CLOEXEC))
    tcp = socket.socket()
    with contextlib.suppress(OSError):
        tcp.connect(("127.0.0.1", int(port)))
    tcp.close()
    local = socket.socket(socket.AF_UNIX)
    with contextlib.suppress(OSError):
        local.connect(sock)
    local.close()
    with contextlib.suppress(OSError):
        os.execv(binary, [binary, "--config", "/etc/app.conf"])
    time.sleep(0.3)
    for path in HOSTILE:
        with contextlib.suppress(OSError):
            os.open(path, os.O_RDONLY)
    print("done", flush=True)
    sys.stdin.readline()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
