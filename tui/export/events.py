"""Sampled calls as Tracee-style event JSON (sys_enter/sys_exit pairs), one object per line.

Mapping (Tracee's released, legacy event JSON): timestamp (epoch ns), processorId, processId,
threadId, parentProcessId, userId, cgroupId, processName, hostProcessId, hostThreadId,
hostParentProcessId, eventId ("1000" sys_enter, "1001" sys_exit, Tracee's ids), eventName,
argsNum, args [{"name": "syscall", "type": "int32", "value": nr}, then each argument by the
kernel's prototype: {"name": "pathname", "type": "const char*", "value": "/etc/x", "shown":
strace's rendering}], returnValue, syscall, contextFlags.isCompat. Added beyond Tracee:
sys_exit carries the real returnValue (Tracee's sys_exit does not), durationNs, call (the
strace-style line) and why (sampled, failed, slow, first); both carry syscallArgs, the six
raw argument registers as seen at exit. The enter timestamp is the exit timestamp minus the
measured duration.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from tui.model.decode import decode_call
from tui.model.names import SyscallNames
from tui.model.prototypes import Prototype, shipped_prototypes
from tui.model.readings import SampleEvent
from tui.model.sanitize import safe_text
from tui.model.snapshot import REASON_WORDS

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
    prototypes: Mapping[str, Prototype] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the sys_enter and sys_exit objects of one sampled or captured call."""
    decoded = names.decode(sample.slot)
    call = decode_call(
        decoded.name,
        (prototypes or shipped_prototypes()).get(decoded.name),
        sample.args,
        sample.strings,
        sample.truncated,
        sample.addr,
        sample.ret,
        dict(sample.fd_targets),
        sample.argv_more,
    )
    args: list[dict[str, Any]] = [{"name": "syscall", "type": "int32", "value": decoded.nr}]
    args += [
        {"name": name, "type": kind.replace(" *", "*"), "value": value, "shown": shown}
        for name, kind, value, shown in call.args
    ]
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
        "argsNum": len(args),
        "args": args,
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
        "call": call.text,
        "why": [word for bit, word in REASON_WORDS if sample.reasons & bit],
        **common,
    }
    return enter, leave


def event_lines(
    samples: Iterable[SampleEvent],
    names: SyscallNames,
    parent_of: Callable[[int], int],
    epoch_offset_ns: int,
    prototypes: Mapping[str, Prototype] | None = None,
) -> list[str]:
    """Return the JSON lines of a batch of samples, in time order."""
    lines: list[str] = []
    for sample in sorted(samples, key=lambda s: (s.exit_ns, s.tid)):
        for event in event_pair(sample, names, parent_of, epoch_offset_ns, prototypes):
            lines.append(json.dumps(event, ensure_ascii=False, separators=(",", ":")))
    return lines
