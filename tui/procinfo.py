"""Process facts from psutil, cached by (pid, start time) so a reused pid is a new process."""

from __future__ import annotations

import os
import pwd
import signal
from collections import OrderedDict
from dataclasses import dataclass

import psutil

from tui.model.sanitize import CMDLINE_MAX, safe_text
from tui.model.snapshot import ProcessIdentity


@dataclass(frozen=True, slots=True)
class _Cached:
    create_time: float
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


def _ppid(process: psutil.Process) -> int:
    try:
        return int(process.ppid())
    except (psutil.Error, OSError):
        return 0


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
        if gone or not os.path.isdir(f"/proc/{pid}"):  # far cheaper than psutil's NoSuchProcess
            self._by_pid.pop(pid, None)
            return ProcessIdentity(comm=kernel_comm, user=user_name(uid, self._users))
        try:
            process = psutil.Process(pid)
            with process.oneshot():  # /proc/<pid>/stat read once for both
                create_time = process.create_time()
                ppid = _ppid(process)  # an orphan is re-parented
            # comm is read every time: processes rename themselves (prctl PR_SET_NAME).
            with open(f"/proc/{pid}/comm", "rb") as comm_file:
                comm = safe_text(comm_file.read().rstrip(b"\n"), 64)
            # And cmdline: a fork that execs keeps its pid and start time, and a process seen
            # in the middle of its exec has no argv yet.
            cmdline = safe_text(" ".join(process.cmdline()), CMDLINE_MAX)
        except (psutil.Error, OSError):
            self._by_pid.pop(pid, None)
            return ProcessIdentity(comm=kernel_comm, user=user_name(uid, self._users))
        cached = self._by_pid.get(pid)
        if (
            cached is None
            or cached.create_time != create_time
            or cached.identity.cmdline != cmdline
            or cached.identity.ppid != ppid
        ):
            cached = _Cached(
                create_time,
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
