"""Write the seccomp profile of what a target called while watched (--seccomp-profile, P)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path

from tui.model.names import INVALID_SLOT, SyscallNames
from tui.model.readings import RawReading
from tui.model.seccomp import Observed, profile_text, seen_syscalls
from tui.safe_files import open_new_file


def observed_in(
    first: RawReading,
    last: RawReading,
    names: SyscallNames,
    target: str,
    pids: frozenset[int] | None = None,
    from_start: bool = False,
) -> Observed:
    """Return what was called by `pids` (None: everything the kernel filter let through)."""
    if pids is None:
        slots = {slot for slot, counters in last.syscalls.items() if counters.count}
    else:
        slots = {slot for tgid, slot in last.processes if tgid in pids}
    decoded = [names.decode(slot) for slot in sorted(slots) if slot != INVALID_SLOT]
    native, compat = seen_syscalls((d.name, d.compat) for d in decoded)
    watched_s = max(last.monotonic_ns - first.monotonic_ns, 0) / 1e9
    return Observed(target, native, compat, watched_s, from_start)


def write_profile(path: Path, observed: Observed, names: SyscallNames, force: bool) -> None:
    """Write the profile as a new private file (the safe writes of recordings)."""
    fd = open_new_file(path, force, "seccomp profile")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(profile_text(observed, names.arch))


def started_after(pid: int, boot_ticks_now: int | None = None) -> bool:
    """Return True when `pid` started after this process did (so it was watched from start)."""
    try:
        theirs = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
        ours = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return False
    return theirs > ours


class ProcessStarts:
    """Whether each process seen was watched from its start: it started after this one (judged
    when first seen), or it called execve while watched (its program's start-up came after)."""

    def __init__(self, names: SyscallNames) -> None:
        self.after: dict[int, bool] = {}
        self.exec_slots = frozenset(names.slots_for("execve") + names.slots_for("execveat"))

    def observe(self, reading: RawReading) -> None:
        """Judge the processes this reading shows for the first time."""
        for tgid, slot in reading.processes:
            if tgid not in self.after:
                self.after[tgid] = slot in self.exec_slots or started_after(tgid)
            elif slot in self.exec_slots:
                self.after[tgid] = True

    def from_start(self, pids: Iterable[int] | None = None) -> bool:
        """Return True when every process of `pids` (None: all seen) was watched from its start."""
        chosen = list(self.after) if pids is None else list(pids)
        return bool(chosen) and all(self.after.get(pid, False) for pid in chosen)


def save_observed_profile(
    directory: str,
    first: RawReading,
    last: RawReading,
    names: SyscallNames,
    target: tuple[frozenset[int], str],
    force: bool,
) -> str:
    """Write the profile of what `target` called into `directory`; return the line to show."""
    pids, label = target
    from_start = all(started_after(pid) for pid in pids)  # live processes, on screen now
    observed = observed_in(first, last, names, label, pids, from_start)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    name = "".join(ch if ch.isalnum() else "-" for ch in label)[:60]
    path = Path(directory) / f"seccomp-{name}-{stamp}.json"
    write_profile(path, observed, names, force)
    allowed = len(observed.native | observed.compat)
    note = "" if from_start else "; it was running before syscalltop: start-up calls may be missing"
    return f"wrote {path}: {allowed} syscalls in {observed.watched_s:.0f} s{note}"
