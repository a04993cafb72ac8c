"""Sampled calls as Tracee-style event JSON (sys_enter/sys_exit pairs), one object per line.

Mapping (Tracee's released, legacy event JSON): timestamp (epoch ns), processorId, processId,
threadId, parentProcessId, userId, cgroupId, processName, hostProcessId, hostThreadId,
hostParentProcessId, eventId ("1000" sys_enter, "1001" sys_exit, Tracee's ids), eventName,
argsNum, args [{"name": "syscall", "type": "int32", "value": nr}], returnValue, syscall,
contextFlags.isCompat. Added beyond Tracee: sys_exit carries the real returnValue (Tracee's
sys_exit does not) and durationNs; both carry syscallArgs, the six raw argument registers
as seen at exit. The enter timestamp is the exit timestamp minus the measured duration.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Any

from tui.model.names import SyscallNames
from tui.model.readings import SampleEvent
from tui.model.sanitize import safe_text

SYS_ENTER_ID = "1000"
SYS_EXIT_ID = "1001"


def monotonic_to_epoch_offset_ns() -> int:
    """Return what to add to CLOCK_MONOTONIC ns (bpf_ktime_get_ns) to get epoch ns."""
    return time.time_ns() - time.monotonic_ns()


def event_pair(
    sample: SampleEvent,
    names: SyscallNames,
    parent_of: Callable[[int], int],
    epoch_offset_ns: int,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the sys_enter and sys_exit objects of one sampled call."""
    decoded = names.decode(sample.slot)
    exit_ts = sample.exit_ns + epoch_offset_ns
    duration = sample.duration_ns if sample.timed else 0
    ppid = parent_of(sample.tgid)
    common = {
        "processorId": sample.cpu,
        "processId": sample.tgid,
        "cgroupId": sample.cgroup_id,
        "threadId": sample.tid,
        "parentProcessId": ppid,
        "hostProcessId": sample.tgid,
        "hostThreadId": sample.tid,
        "hostParentProcessId": ppid,
        "userId": sample.uid,
        "processName": safe_text(sample.comm),
        "argsNum": 1,
        "args": [{"name": "syscall", "type": "int32", "value": decoded.nr}],
        "syscall": decoded.name,
        "contextFlags": {"containerStarted": False, "isCompat": decoded.compat},
        "syscallArgs": list(sample.args),
    }
    enter = {
        "timestamp": exit_ts - duration,
        "eventId": SYS_ENTER_ID,
        "eventName": "sys_enter",
        "returnValue": 0,
        **common,
    }
    leave = {
        "timestamp": exit_ts,
        "eventId": SYS_EXIT_ID,
        "eventName": "sys_exit",
        "returnValue": sample.ret,
        "durationNs": duration if sample.timed else None,
        **common,
    }
    return enter, leave


def event_lines(
    samples: Iterable[SampleEvent],
    names: SyscallNames,
    parent_of: Callable[[int], int],
    epoch_offset_ns: int,
) -> list[str]:
    """Return the JSON lines of a batch of samples, in time order."""
    lines: list[str] = []
    for sample in sorted(samples, key=lambda s: (s.exit_ns, s.tid)):
        for event in event_pair(sample, names, parent_of, epoch_offset_ns):
            lines.append(json.dumps(event, ensure_ascii=False, separators=(",", ":")))
    return lines
