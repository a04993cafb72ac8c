"""Headless output, like syscount and `top -b`: a text table or one JSON object per interval."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from tui.model.cgroups import Group
from tui.model.sanitize import safe_text
from tui.model.snapshot import SampleRow, Snapshot, TargetRow

DEFAULT_TEXT_ROWS = 10
TARGETS_PER_ROW = 5


def _target_json(target: TargetRow) -> dict[str, Any]:
    return {
        "target": target.target,
        "errno": target.errno,
        "count": target.count,
        "pid": target.pid,
        "comm": safe_text(target.comm),
        "call": target.call,
    }


def group_json(group: Group | None) -> dict[str, Any] | None:
    """Return a group as JSON: kind, short name, full id, and the cgroup path."""
    if group is None:
        return None
    found: dict[str, Any] = {"kind": group.kind, "name": group.name, "id": group.id}
    found["path"] = group.path
    if group.pod is not None:
        found["pod"] = group.pod
    return found


def _call_json(row: SampleRow) -> dict[str, Any]:
    return {
        "pid": row.pid,
        "tid": row.tid,
        "comm": safe_text(row.comm),
        "syscall": f"{row.name} (i386)" if row.compat else row.name,
        "duration_ns": row.duration_ns,
        "errno": row.errno,
        "why": row.why,
        "target": row.target,
        "call": row.call,
    }


def iso_time(wall_time: float) -> str:
    """Return a UTC ISO-8601 timestamp with milliseconds."""
    return datetime.fromtimestamp(wall_time, tz=timezone.utc).isoformat(timespec="milliseconds")


def snapshot_json(
    snapshot: Snapshot, top_n: int | None = None, level: str = "full"
) -> dict[str, Any]:
    """Return the JSON object of one interval (every string already safe); `level` says
    whether latency was measured ("counts": every latency figure is null)."""
    syscalls = snapshot.syscalls[:top_n] if top_n else snapshot.syscalls
    processes = snapshot.processes[:top_n] if top_n else snapshot.processes
    totals = snapshot.totals
    # Grouped once: under churn there are thousands of processes and up to 200 targets.
    targets_by_pid: dict[int, list[TargetRow]] = {}
    for target in snapshot.targets:
        targets_by_pid.setdefault(target.pid, []).append(target)
    return {
        "time": iso_time(snapshot.wall_time),
        "interval_s": round(snapshot.interval_s, 6),
        "level": level,
        "totals": {
            "count": totals.count,
            "total": totals.total,
            "errors": totals.errors,
            "errors_total": totals.errors_total,
            "rate": round(totals.rate, 3),
            "lost_samples": totals.loss.lost_samples,
            "dropped": {
                "process_map_full": totals.loss.proc_map_full,
                "errno_map_full": totals.loss.errno_map_full,
                "untimed_exits": totals.loss.untimed_exits,
            },
        },
        "syscalls": [
            {
                "nr": row.nr,
                "name": row.name,
                "compat": row.compat,
                "count": row.count,
                "total": row.total,
                "rate": round(row.rate, 3),
                "errors": row.errors,
                "errors_total": row.errors_total,
                "errnos": dict(row.errnos),
                "errnos_total": dict(row.errnos_total),
                "latency": row.latency.as_dict(),
                # Failing calls captured with their arguments (the budget suppresses the rest).
                "captured": {
                    "failures": row.failures_captured,
                    "suppressed": row.failures_suppressed,
                },
                "targets": [_target_json(t) for t in snapshot.targets_of(slot=row.slot)][
                    :TARGETS_PER_ROW
                ],
            }
            for row in syscalls
        ],
        "targets_dropped": snapshot.targets_dropped,
        "groups": [
            {
                **(group_json(row.group) or {}),
                "cgroup_ids": list(row.cgroup_ids),
                "count": row.count,
                "rate": round(row.rate, 3),
                "errors": row.errors,
                "error_rate": round(row.error_rate, 3),
                "pids": list(row.pids),
                "top_syscall": row.top_syscall,
                "top_errno": row.top_errno or None,
            }
            for row in (snapshot.groups[:top_n] if top_n else snapshot.groups)
        ],
        "slowest": [_call_json(row) for row in snapshot.slowest],
        "processes": [
            {
                "pid": row.pid,
                "comm": safe_text(row.comm),
                "user": safe_text(row.user),
                "count": row.count,
                "total": row.total,
                "rate": round(row.rate, 3),
                "errors": row.errors,
                "exited": row.exited,
                "cgroup_id": row.cgroup_id,
                "group": group_json(row.group),
                "syscalls": {call.label: call.count for call in row.syscalls},
                "targets": [
                    {"syscall": t.syscall, **_target_json(t)}
                    for t in targets_by_pid.get(row.pid, [])[:TARGETS_PER_ROW]
                ],
            }
            for row in processes
        ],
        "anomalies": [
            {
                "time": iso_time(anomaly.wall_time),
                "kind": anomaly.kind,
                "syscall": anomaly.syscall,
                "pid": anomaly.pid,
                "comm": safe_text(anomaly.comm),
                "value": round(anomaly.value, 3),
                "baseline": round(anomaly.baseline, 3),
                "severity": anomaly.severity,
            }
            for anomaly in snapshot.anomalies
        ],
        "inflight": [
            {
                "pid": row.pid,
                "tid": row.tid,
                "comm": safe_text(row.comm),
                "syscall": row.label,
                "elapsed_ns": row.elapsed_ns,
                "lower_bound": row.lower_bound,
            }
            for row in (snapshot.inflight[:top_n] if top_n else snapshot.inflight)
        ],
    }


def json_line(snapshot: Snapshot, top_n: int | None = None, level: str = "full") -> str:
    """Return one interval as a single JSON line (valid UTF-8, no raw control bytes)."""
    record = snapshot_json(snapshot, top_n, level)
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def _ns(value: int | None) -> str:
    if value is None:
        return "-"
    if value >= 1_000_000_000:
        return f"{value / 1e9:.2f}s"
    if value >= 1_000_000:
        return f"{value / 1e6:.2f}ms"
    if value >= 1_000:
        return f"{value / 1e3:.1f}us"
    return f"{value}ns"


def text_table(snapshot: Snapshot, top_n: int | None = None) -> str:
    """Return one interval as a fixed-width table, top syscalls then top processes."""
    rows = top_n or DEFAULT_TEXT_ROWS
    totals = snapshot.totals
    lines = [
        f"[{iso_time(snapshot.wall_time)}] {totals.count} syscalls in {snapshot.interval_s:.2f}s "
        f"({totals.rate:,.0f}/s), {totals.errors} failed, lost samples {totals.loss.lost_samples}",
        f"{'SYSCALL':<22} {'COUNT':>10} {'RATE/s':>10} {'ERRORS':>8} "
        f"{'AVG':>9} {'P99':>9}  TOP ERRNO",
    ]
    active = [row for row in snapshot.syscalls if row.count]
    for row in active[:rows]:
        top_errno = f"{row.errnos[0][0]} x{row.errnos[0][1]}" if row.errnos else ""
        lines.append(
            f"{row.label[:22]:<22} {row.count:>10} {row.rate:>10.1f} {row.errors:>8} "
            f"{_ns(row.latency.avg_ns):>9} {_ns(row.latency.p99_ns):>9}  {top_errno}"
        )
    lines.append(f"{'PID':>8} {'COMM':<16} {'USER':<10} {'COUNT':>10} {'ERRORS':>8}  TOP SYSCALL")
    for process in snapshot.processes[:rows]:
        lines.append(
            f"{process.pid:>8} {safe_text(process.comm)[:16]:<16} "
            f"{safe_text(process.user)[:10]:<10} {process.count:>10} {process.errors:>8}  "
            f"{process.top_syscall}"
        )
    if snapshot.targets:
        lines.append(f"{'FAILING TARGET':<40} {'ERRNO':<12} {'COUNT':>6}  SYSCALL / PROCESS")
        for target in snapshot.targets[:rows]:
            lines.append(
                f"{target.target[:40]:<40} {target.errno:<12} {target.count:>6}  "
                f"{target.syscall} / {safe_text(target.comm)}[{target.pid}]"
            )
    for call in snapshot.slowest[:3]:
        lines.append(f"SLOW {_ns(call.duration_ns):>9}  [{call.pid}] {call.call}")
    return "\n".join(lines) + "\n"
