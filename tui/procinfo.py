"""Process facts from /proc, cached by (pid, start time) so a reused pid is a new process."""

from __future__ import annotations

import os
import pwd
import signal
from collections import OrderedDict
from dataclasses import dataclass

from tui.model.sanitize import CMDLINE_MAX, safe_text
from tui.model.snapshot import ProcessIdentity


@dataclass(frozen=True, slots=True)
class _Cached:
    start_ticks: int
    identity: ProcessIdentity


def user_name(uid: int, cache: dict[int, str] | None = None) -> str:
    """Return the login name of a uid, or the number when it has none."""
    if cache is not None and uid in cache:
        return cache[uid]
    try:
        name = safe_text(pwd.getpwuid(uid).pw_name, 32)
    except KeyError:
        name = str(uid)
    if cache is not None:
        cache[uid] = name
    return name


SECCOMP_MODES = {"0": "disabled", "1": "strict", "2": "filter"}


def seccomp_mode(pid: int) -> str:
    """Return the process's seccomp mode from /proc/PID/status ("" when unreadable)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("Seccomp:"):
                    return SECCOMP_MODES.get(line.split()[1], "")
    except (OSError, IndexError):
        pass
    return ""


# Bytes of /proc/<pid>/cmdline read: enough for CMDLINE_MAX characters, multi-byte ones too.
CMDLINE_BYTES = 4 * CMDLINE_MAX


def read_process(pid: int) -> tuple[int, int, str, str]:
    """Return (start time in ticks since boot, ppid, comm, cmdline) of a live process from
    /proc, read afresh each time: a process renames itself, an orphan is re-parented, and a
    fork that execs keeps its pid and start time. Raises OSError once it is gone."""
    with open(f"/proc/{pid}/stat", "rb") as stat_file:
        line = stat_file.read()
    # "pid (comm) state ppid ...": comm is what /proc/pid/comm says (any bytes but NUL, ")"
    # and newlines too), so it runs from the first "(" to the last ")".
    comm_bytes, _, rest = line.partition(b"(")[2].rpartition(b")")
    after_comm = rest.split()
    comm = safe_text(comm_bytes, 64)
    with open(f"/proc/{pid}/cmdline", "rb") as cmdline_file:
        argv = cmdline_file.read(CMDLINE_BYTES)  # empty mid-exec, for a zombie, a kernel thread
    cmdline = safe_text(argv.rstrip(b"\0").replace(b"\0", b" "), CMDLINE_MAX)
    try:
        return int(after_comm[19]), int(after_comm[1]), comm, cmdline
    except (IndexError, ValueError):
        raise OSError(f"/proc/{pid}/stat is not a stat line") from None


def open_files(pid: int, limit: int = 500) -> list[str]:
    """Return `fd -> target` for a process's open file descriptors (sanitized), or []."""
    found = []
    try:
        fds = sorted(os.listdir(f"/proc/{pid}/fd"), key=lambda name: int(name))
    except (OSError, ValueError):
        return []
    for fd in fds[:limit]:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        found.append(f"{fd:>5} -> {safe_text(os.fsencode(target), 200)}")
    if len(fds) > limit:
        found.append(f"... and {len(fds) - limit} more")
    return found


def same_process(pid: int, comm: str) -> bool:
    """Return True while `pid` is still the process shown as `comm` (not a reused pid)."""
    try:
        with open(f"/proc/{pid}/comm", "rb") as comm_file:
            return safe_text(comm_file.read().rstrip(b"\n"), 64) == comm
    except OSError:
        return False


def strace_command(pid: int, syscall: str = "") -> str:
    """Return the strace command line that follows `pid` (and only `syscall`, when given)."""
    return f"strace -f -p {pid}" + (f" -e trace={syscall}" if syscall else "")


def send_signal(pid: int, comm: str, signum: int) -> tuple[str, bool]:
    """Signal `pid` unless it is init or this tool; return the line to show and success."""
    if pid in (1, os.getpid()):
        return f"not signalling pid {pid}", False
    name = signal.Signals(signum).name
    try:
        os.kill(pid, signum)
    except OSError as error:
        return f"{name} to {comm}[{pid}]: {error.strerror}", False
    return f"sent {name} to {comm}[{pid}]", True


CACHE_LIMIT = 4096


class ProcessInfo:
    """Describe processes for the model; dead ones keep the comm the kernel recorded."""

    def __init__(self, cache_limit: int = CACHE_LIMIT) -> None:
        # Least recently described first: bounded under pid churn.
        self._by_pid: OrderedDict[int, _Cached] = OrderedDict()
        self._cache_limit = cache_limit
        self._users: dict[int, str] = {}

    def describe(self, pid: int, uid: int, kernel_comm: str, gone: bool = False) -> ProcessIdentity:
        """Return comm, user and cmdline of `pid`, checking its start time against the cache;
        `gone`: the caller knows it has exited (no /proc look-up)."""
        if gone:
            self._by_pid.pop(pid, None)
            return ProcessIdentity(comm=kernel_comm, user=user_name(uid, self._users))
        try:
            # Three small reads (psutil took eight opens and 86 us a process).
            start_ticks, ppid, comm, cmdline = read_process(pid)
        except OSError:
            self._by_pid.pop(pid, None)
            return ProcessIdentity(comm=kernel_comm, user=user_name(uid, self._users))
        cached = self._by_pid.get(pid)
        if (
            cached is None
            or cached.start_ticks != start_ticks
            or cached.identity.cmdline != cmdline
            or cached.identity.ppid != ppid
        ):
            cached = _Cached(
                start_ticks,
                ProcessIdentity(
                    comm, user_name(uid, self._users), cmdline, seccomp_mode(pid), ppid
                ),
            )
            self._by_pid[pid] = cached
            while len(self._by_pid) > self._cache_limit:
                self._by_pid.popitem(last=False)
        else:
            self._by_pid.move_to_end(pid)
        identity = cached.identity
        if identity.comm != comm:
            identity = ProcessIdentity(
                comm, identity.user, identity.cmdline, identity.seccomp, identity.ppid
            )
        return identity
