"""The dashboard's tables: hot syscalls, busy processes, a process's mix, a syscall's callers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tui.model.history import TREND_POINTS
from tui.model.snapshot import (
    GroupRow,
    Incident,
    InflightRow,
    ProcessRow,
    ProcessSyscallRow,
    SyscallRow,
    TargetRow,
)
from tui.model.view import ErrorRow, LoggedAnomaly
from tui.widgets.format import compact, duration, percent, sparkline
from tui.widgets.keyed_table import Cell, Column, KeyedTable

TREND_WIDTH = 6
ERROR_STYLE = "bold red"
TREND_STYLE = "cyan"
FLAG_STYLE = "bold orange4"  # readable on the dark and the light theme alike
EXITED_STYLE = "dim"
FLAG = "!"  # readable without colour: flagged rows start with it


def _flagged(text: str, flagged: bool) -> Cell:
    return (f"{FLAG}{text}", FLAG_STYLE) if flagged else (f" {text}", "")


def _trend_column(series: Callable[[Any], Sequence[float]]) -> Column[Any]:
    """Return the TREND column: recent rates as a sparkline, sorted by the current rate."""

    def render(row: Any, width: int = TREND_WIDTH) -> Cell:
        return sparkline(series(row), width), TREND_STYLE

    return Column(
        "trend",
        "TREND",
        TREND_WIDTH,
        render,
        lambda r: r.rate,
        numeric=False,
        grow=TREND_POINTS - TREND_WIDTH,  # wide panes show every interval kept
        render_sized=render,
    )


def _errors(value: float, text: str) -> Cell:
    return text, ERROR_STYLE if value else ""


def _errors_column(
    label: str, width: int, errors_of: Callable[[Any], int], value_of: Callable[[Any], float]
) -> Column[Any]:
    """Return an errors column: `value_of` in red when the row had failures, else blank."""

    def render(row: Any) -> Cell:
        return _errors(errors_of(row), compact(value_of(row)) if errors_of(row) else "")

    return Column("errors", label, width, render, value_of)


def _pid_cell(process: ProcessRow) -> Cell:
    # Dimmed: the process exited during the interval, so this is the last time it shows.
    return str(process.pid), EXITED_STYLE if process.exited else ""


def _who_columns(
    process_of: Callable[[Any], ProcessRow], flagged: Callable[[int], bool]
) -> list[Column[Any]]:
    """Return the PID, COMM (flag-marked) and USER columns of rows about one process."""
    return [
        Column("pid", "PID", 7, lambda r: _pid_cell(process_of(r)), lambda r: process_of(r).pid),
        Column(
            "comm",
            "COMM",
            16,
            lambda r: _flagged(process_of(r).comm, flagged(process_of(r).pid)),
            lambda r: process_of(r).comm,
            numeric=False,
        ),
        Column(
            "user",
            "USER",
            8,
            lambda r: process_of(r).user,
            lambda r: process_of(r).user,
            numeric=False,
        ),
    ]


def _avg_cell(latency: Any) -> Cell:
    # A mean above the p99 means a few calls far slower than the rest: say so (* and MAX).
    text = duration(latency.avg_ns)
    outliers = latency.avg_ns and latency.p99_ns and latency.avg_ns > latency.p99_ns
    return (text + "*", FLAG_STYLE) if outliers else (text, "")


def _p99_cell(latency: Any) -> str:
    """Return P99; from log2 buckets (per process) it is a bound, within x2: marked ≤."""
    text = duration(latency.p99_ns)
    return f"≤{text}" if latency.p99_ns is not None and not latency.fine else text


def _latency_columns(latency_of: Callable[[Any], Any], width: int) -> list[Column[Any]]:
    return [
        Column(
            "avg",
            "AVG",
            width,
            lambda r: _avg_cell(latency_of(r)),
            lambda r: latency_of(r).avg_ns or 0,
        ),
        Column(
            "p99",
            "P99",
            width,
            lambda r: _p99_cell(latency_of(r)),
            lambda r: latency_of(r).p99_ns or 0,
        ),
    ]


class TopSyscallsTable(KeyedTable[SyscallRow]):
    """The hottest syscalls: rate, share, errors, latency and trend."""

    def __init__(
        self,
        trends: Callable[[int], Sequence[float]],
        flagged: Callable[[int], bool] = lambda slot: False,
        *,
        id: str | None = None,
    ) -> None:
        columns: list[Column[SyscallRow]] = [
            Column(
                "name",
                "SYSCALL",
                15,
                lambda r: _flagged(r.label, flagged(r.slot)),
                lambda r: r.label,
                numeric=False,
            ),
            Column("nr", "NR", 3, lambda r: str(r.nr) if r.nr >= 0 else "?", lambda r: r.nr),
            Column("rate", "RATE/s", 6, lambda r: compact(r.rate), lambda r: r.rate),
            _errors_column("ERR/s", 5, lambda r: r.errors, lambda r: r.error_rate),
            Column(
                "errno",
                "TOP ERRNO",
                9,
                lambda r: _errors(r.errors, r.errnos[0][0] if r.errnos else ""),
                lambda r: r.errnos[0][0] if r.errnos else "",
                numeric=False,
            ),
            *_latency_columns(lambda r: r.latency, 6),
            _trend_column(lambda r: trends(r.slot)),
            Column("share", "SHARE%", 6, lambda r: percent(r.share), lambda r: r.share),
            Column(
                "error_pct",
                "ERR%",
                5,
                lambda r: _errors(r.errors, percent(r.error_pct)),
                lambda r: r.error_pct,
            ),
            Column(
                "max",
                "MAX",
                6,
                lambda r: duration(r.latency.max_ns),
                lambda r: r.latency.max_ns or 0,
            ),
        ]
        super().__init__(columns, row_key=lambda r: str(r.slot), sort_key="rate", id=id)


class ProcessRatesTable(KeyedTable[ProcessRow]):
    """The busiest processes: who, how fast, how often failing, their top syscall."""

    def __init__(
        self,
        trends: Callable[[int], Sequence[float]],
        flagged: Callable[[int], bool] = lambda pid: False,
        *,
        id: str | None = None,
    ) -> None:
        columns: list[Column[ProcessRow]] = [
            *_who_columns(lambda r: r, flagged),
            Column("rate", "RATE/s", 6, lambda r: compact(r.rate), lambda r: r.rate),
            _errors_column("ERR/s", 5, lambda r: r.errors, lambda r: r.error_rate),
            Column(
                "top",
                "TOP SYSCALL",
                14,
                lambda r: r.top_syscall,
                lambda r: r.top_syscall,
                numeric=False,
            ),
            _trend_column(lambda r: trends(r.pid)),
            Column("ppid", "PPID", 7, lambda r: str(r.ppid or ""), lambda r: r.ppid),
            Column(
                "group",
                "CONTAINER/UNIT",
                22,
                lambda r: r.group.label if r.group is not None else "",
                lambda r: r.group.label if r.group is not None else "",
                numeric=False,
                grow=50,
            ),
        ]
        super().__init__(columns, row_key=lambda r: str(r.pid), sort_key="rate", id=id)


class GroupsTable(KeyedTable[GroupRow]):
    """Containers, pods, services and sessions: their processes' calls together."""

    def __init__(self, trends: Callable[[str], Sequence[float]], *, id: str | None = None) -> None:
        columns: list[Column[GroupRow]] = [
            Column(
                "group",
                "CONTAINER/UNIT",
                30,
                lambda r: r.group.label,
                lambda r: r.group.label,
                numeric=False,
                grow=50,
            ),
            Column("rate", "RATE/s", 6, lambda r: compact(r.rate), lambda r: r.rate),
            _errors_column("ERR/s", 5, lambda r: r.errors, lambda r: r.error_rate),
            Column(
                "top",
                "TOP SYSCALL",
                12,
                lambda r: r.top_syscall,
                lambda r: r.top_syscall,
                numeric=False,
            ),
            Column(
                "errno",
                "TOP ERRNO",
                9,
                lambda r: _errors(1 if r.top_errno else 0, r.top_errno),
                lambda r: r.top_errno,
                numeric=False,
            ),
            Column("procs", "PROCS", 5, lambda r: str(len(r.pids)), lambda r: len(r.pids)),
            _trend_column(lambda r: trends(r.key)),
        ]
        super().__init__(columns, row_key=lambda r: r.key, sort_key="rate", id=id)


class ProcessSyscallsTable(KeyedTable[ProcessSyscallRow]):
    """One process's syscall mix, with per-syscall latency."""

    def __init__(self, *, id: str | None = None) -> None:
        columns: list[Column[ProcessSyscallRow]] = [
            Column("name", "SYSCALL", 18, lambda r: r.label, lambda r: r.label, numeric=False),
            Column("rate", "RATE/s", 7, lambda r: compact(r.rate), lambda r: r.rate),
            Column("count", "COUNT", 7, lambda r: compact(r.count), lambda r: r.count),
            Column("total", "TOTAL", 7, lambda r: compact(r.total), lambda r: r.total),
            _errors_column("ERRORS", 6, lambda r: r.errors, lambda r: r.errors),
            *_latency_columns(lambda r: r.latency, 7),
        ]
        super().__init__(columns, row_key=lambda r: str(r.slot), sort_key="rate", id=id)


@dataclass(frozen=True, slots=True)
class CallerRow:
    """A process calling one syscall (a row of the syscall drill-down)."""

    process: ProcessRow
    call: ProcessSyscallRow


class CallersTable(KeyedTable[CallerRow]):
    """The processes making one syscall."""

    def __init__(
        self, flagged: Callable[[int], bool] = lambda pid: False, *, id: str | None = None
    ) -> None:
        columns: list[Column[CallerRow]] = [
            *_who_columns(lambda r: r.process, flagged),
            Column("rate", "RATE/s", 7, lambda r: compact(r.call.rate), lambda r: r.call.rate),
            _errors_column("ERRORS", 6, lambda r: r.call.errors, lambda r: r.call.errors),
            *_latency_columns(lambda r: r.call.latency, 7),
        ]
        super().__init__(columns, row_key=lambda r: str(r.process.pid), sort_key="rate", id=id)


class InflightTable(KeyedTable[InflightRow]):
    """Threads inside a syscall right now, longest first."""

    def __init__(self, *, id: str | None = None) -> None:
        columns: list[Column[InflightRow]] = [
            Column(
                "elapsed",
                "ELAPSED",
                9,
                lambda r: ("≥" if r.lower_bound else "") + duration(r.elapsed_ns),
                lambda r: r.elapsed_ns,
            ),
            Column("pid", "PID", 7, lambda r: str(r.pid), lambda r: r.pid),
            Column("tid", "TID", 7, lambda r: str(r.tid), lambda r: r.tid),
            Column(
                "comm",
                "COMM/THREAD",
                16,
                lambda r: r.comm if not r.thread or r.thread == r.comm else f"{r.comm}/{r.thread}",
                lambda r: r.comm,
                numeric=False,
                grow=16,  # comm/thread: two 15-byte names
            ),
            Column("syscall", "SYSCALL", 14, lambda r: r.label, lambda r: r.label, numeric=False),
            Column(
                "target", "ON", 22, lambda r: r.target, lambda r: r.target, numeric=False, grow=60
            ),
            Column(
                "wchan", "WCHAN", 18, lambda r: r.wchan, lambda r: r.wchan, numeric=False, grow=12
            ),
        ]
        super().__init__(columns, row_key=lambda r: str(r.tid), sort_key="elapsed", id=id)


class AnomalyLogTable(KeyedTable[LoggedAnomaly]):
    """Every anomaly since start (or the last reset), newest first."""

    def __init__(self, *, id: str | None = None) -> None:
        from datetime import datetime, timezone

        def clock(entry: LoggedAnomaly) -> str:
            stamp = datetime.fromtimestamp(entry.anomaly.wall_time, tz=timezone.utc)
            return stamp.strftime("%H:%M:%S")

        columns: list[Column[LoggedAnomaly]] = [
            Column("time", "UTC", 8, clock, lambda e: e.sequence, numeric=False),
            Column(
                "kind", "KIND", 7, lambda e: e.anomaly.kind, lambda e: e.anomaly.kind, numeric=False
            ),
            Column(
                "severity",
                "SEV",
                6,
                lambda e: (e.anomaly.severity, ERROR_STYLE if e.anomaly.severity == "high" else ""),
                lambda e: e.anomaly.severity,
                numeric=False,
            ),
            Column(
                "what",
                "WHAT",
                60,
                lambda e: e.anomaly.describe(),
                lambda e: e.anomaly.describe(),
                numeric=False,
            ),
        ]
        super().__init__(columns, row_key=lambda e: str(e.sequence), sort_key="time", id=id)


class IncidentsTable(KeyedTable[Incident]):
    """Anomaly episodes: one row each, active first: when, what and who, peak and now."""

    def __init__(self, *, id: str | None = None) -> None:
        from datetime import datetime, timezone

        def clock(incident: Incident) -> str:
            stamp = datetime.fromtimestamp(incident.started, tz=timezone.utc)
            return stamp.strftime("%H:%M:%S")

        def value(incident: Incident, number: float) -> str:
            return duration(int(number)) if incident.kind == "latency" else compact(number)

        columns: list[Column[Incident]] = [
            Column(
                "state",
                "STATE",
                6,
                lambda i: ("active", FLAG_STYLE) if i.active else ("ended", "dim"),
                lambda i: (i.active, i.sequence),
                numeric=False,
            ),
            Column("start", "SINCE", 8, clock, lambda i: i.started, numeric=False),
            Column(
                "severity",
                "SEV",
                6,
                lambda i: (i.severity, ERROR_STYLE if i.severity == "high" else ""),
                lambda i: i.severity,
                numeric=False,
            ),
            Column("kind", "KIND", 7, lambda i: i.kind, lambda i: i.kind, numeric=False),
            Column(
                "syscall", "SYSCALL", 14, lambda i: i.syscall, lambda i: i.syscall, numeric=False
            ),
            Column("who", "PROCESS", 20, lambda i: i.who, lambda i: i.who, numeric=False, grow=20),
            Column("peak", "PEAK", 7, lambda i: value(i, i.peak), lambda i: i.peak),
            Column("now", "NOW", 7, lambda i: value(i, i.now), lambda i: i.now),
        ]
        super().__init__(columns, row_key=lambda i: str(i.sequence), sort_key="state", id=id)


class ErrorsTable(KeyedTable[ErrorRow]):
    """Errors by errno, then syscall, the target failing most, and the process failing most."""

    def __init__(self, *, id: str | None = None) -> None:
        columns: list[Column[ErrorRow]] = [
            Column(
                "errno",
                "ERRNO",
                12,
                lambda r: (r.errno, ERROR_STYLE),
                lambda r: r.errno,
                numeric=False,
            ),
            Column(
                "syscall",
                "SYSCALL",
                12,
                lambda r: r.syscall.label,
                lambda r: r.syscall.label,
                numeric=False,
            ),
            Column("count", "COUNT", 6, lambda r: compact(r.count), lambda r: r.count),
            Column(
                "target",
                "TOP TARGET",
                24,
                lambda r: r.top_target or "-",
                lambda r: r.top_target,
                numeric=False,
                grow=60,
            ),
            Column(
                "caller",
                "FAILING MOST",
                14,
                lambda r: r.top_caller,
                lambda r: r.top_caller,
                numeric=False,
            ),
            Column(
                "share",
                "%CALLS",
                7,
                lambda r: percent(100 * r.count / r.syscall.count if r.syscall.count else 0),
                lambda r: r.count / max(r.syscall.count, 1),
            ),
        ]
        super().__init__(
            columns, row_key=lambda r: f"{r.errno}/{r.syscall.slot}", sort_key="count", id=id
        )


class TargetsTable(KeyedTable[TargetRow]):
    """Where one syscall failed with one errno: path or address, how often, and who."""

    def __init__(self, *, id: str | None = None) -> None:
        columns: list[Column[TargetRow]] = [
            Column(
                "target",
                "TARGET",
                36,
                lambda r: r.target,
                lambda r: r.target,
                numeric=False,
                grow=90,
            ),
            Column("count", "COUNT", 6, lambda r: compact(r.count), lambda r: r.count),
            Column("pid", "PID", 7, lambda r: str(r.pid), lambda r: r.pid),
            Column("comm", "COMM", 16, lambda r: r.comm, lambda r: r.comm, numeric=False),
        ]
        super().__init__(columns, row_key=lambda r: f"{r.target}\0{r.pid}", sort_key="count", id=id)
