"""View state: what the user asked to see, and the pure rules that turn a Snapshot into rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import Enum

from tui.model.anomaly import WAITING_SYSCALLS, Anomaly
from tui.model.histogram import LatencySummary
from tui.model.names import SyscallNames
from tui.model.snapshot import (
    GroupRow,
    InflightRow,
    ProcessRow,
    ProcessSyscallRow,
    Snapshot,
    SyscallRow,
    TargetRow,
)


class ViewKind(Enum):
    """The screens a user can be on."""

    DASHBOARD = "dashboard"
    SYSCALL = "syscall"
    PROCESS = "process"
    INFLIGHT = "inflight"
    ANOMALIES = "anomalies"
    ERRORS = "errors"
    TARGETS = "targets"
    GROUPS = "groups"
    GROUP = "group"


@dataclass(frozen=True, slots=True)
class View:
    """One level of the view stack: a kind, and the syscall slot or pid it is about."""

    kind: ViewKind
    key: int | None = None
    detail: str | None = None  # the errno of a targets view, the key of a group view


HOME = View(ViewKind.DASHBOARD)


@dataclass(frozen=True, slots=True)
class ViewState:
    """Everything the user chose about what is shown; the app folds events into the next one."""

    filter_text: str = ""
    failures_only: bool = False
    paused: bool = False
    interval_s: float = 1.0
    views: tuple[View, ...] = (HOME,)
    # This process: the kernel leaves out its own calls; the look-ups it spawns are hidden.
    own_pid: int | None = None
    hide_waits: bool = False  # in flight: leave out threads idling in epoll_wait, poll, …
    own_children: frozenset[int] = frozenset()  # the man-page look-ups it started
    hidden_columns: frozenset[str] = frozenset()  # left out of every table (C chooses)

    @property
    def current(self) -> View:
        """Return the view on top of the stack."""
        return self.views[-1]


# -- what the user did (screens post these; `fold` turns them into the next ViewState) ------


@dataclass(frozen=True, slots=True)
class FilterChanged:
    """The / filter text is now `text`."""

    text: str


@dataclass(frozen=True, slots=True)
class FailuresToggled:
    """The user toggled failures-only."""


@dataclass(frozen=True, slots=True)
class PauseToggled:
    """The user froze or unfroze the screen."""


@dataclass(frozen=True, slots=True)
class IntervalChanged:
    """The user asked for a new interval."""

    interval_s: float


@dataclass(frozen=True, slots=True)
class WaitsToggled:
    """The user toggled hiding idle waits in the in-flight view."""


@dataclass(frozen=True, slots=True)
class ColumnToggled:
    """The user hid a column, or showed it again (the column chooser)."""

    key: str


@dataclass(frozen=True, slots=True)
class ViewOpened:
    """The user drilled into or switched to a view."""

    view: View


@dataclass(frozen=True, slots=True)
class ViewClosed:
    """The user went one level back."""


ViewEvent = (
    FilterChanged
    | FailuresToggled
    | PauseToggled
    | IntervalChanged
    | ViewOpened
    | ViewClosed
    | WaitsToggled
    | ColumnToggled
)

INTERVAL_STEPS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
# Where daemons idle by design: hidden from in flight by `w`, reads and writes kept.
IDLE_WAITS = WAITING_SYSCALLS - {"read", "readv", "write", "writev", "recvfrom", "recvmsg"}
# Views a key opens from anywhere (i, a, e, c); drill-downs stack on top of them.
TOP_LEVEL = frozenset({ViewKind.INFLIGHT, ViewKind.ANOMALIES, ViewKind.ERRORS, ViewKind.GROUPS})


def breadcrumb(state: ViewState, names: SyscallNames) -> str:
    """Return where the user is, e.g. home, errors, openat ENOENT (joined by a guillemet)."""
    parts = []
    for view in state.views:
        if view.kind is ViewKind.DASHBOARD:
            parts.append("home")
        elif view.kind is ViewKind.SYSCALL and view.key is not None:
            parts.append(names.decode(view.key).label)
        elif view.kind is ViewKind.PROCESS:
            parts.append(f"pid {view.key}")
        elif view.kind is ViewKind.TARGETS and view.key is not None:
            parts.append(f"{names.decode(view.key).label} {view.detail}")
        elif view.kind is ViewKind.GROUP:
            parts.append(str(view.detail).split(":", 1)[0])
        else:
            parts.append(view.kind.value)
    return " › ".join(parts)


def fold(state: ViewState, event: ViewEvent) -> ViewState:
    """Return the view state after `event`."""
    if isinstance(event, FilterChanged):
        return replace(state, filter_text=event.text)
    if isinstance(event, FailuresToggled):
        return replace(state, failures_only=not state.failures_only)
    if isinstance(event, PauseToggled):
        return replace(state, paused=not state.paused)
    if isinstance(event, WaitsToggled):
        return replace(state, hide_waits=not state.hide_waits)
    if isinstance(event, IntervalChanged):
        return replace(state, interval_s=event.interval_s)
    if isinstance(event, ColumnToggled):
        return replace(state, hidden_columns=state.hidden_columns ^ {event.key})
    if isinstance(event, ViewOpened):
        if event.view == state.current:
            return state  # pressing a view's key in that view changes nothing
        if event.view.kind in TOP_LEVEL:
            # View keys switch views: the stack is home, then that view (never piles up).
            return replace(state, views=(HOME, event.view))
        return replace(state, views=(*state.views, event.view))
    if isinstance(event, ViewClosed):
        return replace(state, views=state.views[:-1]) if len(state.views) > 1 else state
    raise TypeError(f"not a view event: {event!r}")


def longer_interval(interval_s: float) -> float:
    """Return the next interval step up (or the same at the top)."""
    longer = [step for step in INTERVAL_STEPS if step > interval_s]
    return longer[0] if longer else interval_s


def shorter_interval(interval_s: float) -> float:
    """Return the next interval step down (or the same at the bottom)."""
    shorter = [step for step in INTERVAL_STEPS if step < interval_s]
    return shorter[-1] if shorter else interval_s


# -- rules: (Snapshot, ViewState) → what each table and the status line show ----------------


FILTER_FIELDS = ("comm", "pid", "sys", "path", "group")


@dataclass(frozen=True, slots=True)
class TextFilter:
    """What `/` asks for: a field (comm:, pid:, sys:, path:, group:) or any, and the text."""

    field: str | None
    needle: str

    def matches(self, field: str, *texts: str) -> bool:
        """Return True when the filter is empty, or names `field` (or any) and a text has it."""
        if not self.needle and self.field is None:
            return True
        if self.field is not None and self.field != field:
            return False
        needle = self.needle.lower()
        if field == "pid":
            return any(needle == text for text in texts)  # pid:42 is pid 42, not 142
        return any(needle in text.lower() for text in texts)


def parse_filter(text: str) -> TextFilter:
    """Return the filter `/` typed: `comm:nginx`, `pid:42`, `sys:open`, or plain (any field)."""
    field, colon, rest = text.partition(":")
    if colon and field.strip().lower() in FILTER_FIELDS:
        return TextFilter(field.strip().lower(), rest.strip())
    return TextFilter(None, text.strip())


def view_note(state: ViewState) -> str:
    """Return a short description of the view settings in force."""
    notes = []
    if state.filter_text:
        wanted = parse_filter(state.filter_text)
        what = f"{wanted.field} " if wanted.field else ""
        notes.append(f"/{what}{wanted.needle}")
    if state.failures_only:
        notes.append("failures only")
    return ", ".join(notes)


def text_matches(state: ViewState, *texts: str) -> bool:
    """Return True when the filter is empty or any text contains it (case-insensitive)."""
    wanted = parse_filter(state.filter_text)
    needle = wanted.needle.lower()
    return not needle or any(needle in text.lower() for text in texts)


def matched_pids(snapshot: Snapshot, state: ViewState) -> set[int] | None:
    """Return the processes `/` names (comm:, pid:, or plain text that names no syscall), or
    None when the filter is not about processes: then syscall numbers stay global."""
    wanted = parse_filter(state.filter_text)
    if not wanted.needle or wanted.field not in (None, "comm", "pid"):
        return None
    if wanted.field is None and any(
        wanted.matches("sys", row.label) for row in snapshot.syscalls if row.count
    ):
        return None
    pids = {
        row.pid
        for row in snapshot.processes
        if wanted.matches("comm", row.comm) or wanted.matches("pid", str(row.pid))
    }
    return pids if pids or wanted.field is not None else None


def scoped_syscalls(snapshot: Snapshot, pids: set[int]) -> list[SyscallRow]:
    """Return syscall rows made of these processes' calls only: their numbers, not the host's."""
    rows: dict[int, list[ProcessSyscallRow]] = {}
    for process in snapshot.processes:
        if process.pid in pids:
            for call in process.syscalls:
                rows.setdefault(call.slot, []).append(call)
    total = sum(call.count for calls in rows.values() for call in calls)
    found = []
    for slot, calls in rows.items():
        count = sum(c.count for c in calls)
        errors = sum(c.errors for c in calls)
        hist = tuple(map(sum, zip(*(c.hist for c in calls), strict=True)))
        highest = [c.latency_max_ns for c in calls if c.latency_max_ns is not None]
        latency = LatencySummary.from_hist(
            hist, sum(c.latency_sum_ns for c in calls), max(highest) if highest else None
        )
        first = calls[0]
        found.append(
            SyscallRow(
                slot=slot,
                nr=slot % 512 if slot < 1024 else -1,
                name=first.name,
                compat=first.compat,
                count=count,
                total=sum(c.total for c in calls),
                rate=sum(c.rate for c in calls),
                errors=errors,
                errors_total=errors,
                error_rate=errors / snapshot.interval_s if snapshot.interval_s else 0.0,
                errnos=(),
                errnos_total=(),
                latency=latency,
                hist=hist,
                share=100.0 * count / total if total else 0.0,
            )
        )
    found.sort(key=lambda row: (-row.count, row.slot))
    return found


def visible_syscalls(snapshot: Snapshot, state: ViewState) -> list[SyscallRow]:
    """Return the syscall rows the dashboard shows: active, filtered by name, by caller (with
    that caller's numbers), by target or group."""
    wanted = parse_filter(state.filter_text)
    pids = matched_pids(snapshot, state)
    if pids is not None:
        return [
            row for row in scoped_syscalls(snapshot, pids) if not state.failures_only or row.errors
        ]
    called_by_match: set[int] = set()
    if wanted.needle:
        # A path or an address typed into / finds the syscalls that failed on it.
        called_by_match = {t.slot for t in snapshot.targets if wanted.matches("path", t.target)}
        called_by_match |= {
            call.slot
            for process in snapshot.processes
            if process.group is not None
            and wanted.matches("group", process.group.label, process.group.path)
            for call in process.syscalls
        }
    # A syscall keeps its row while its trend window shows activity: rows that blink in and
    # out each interval are hard to read (and each one costs Textual a full relayout).
    return [
        row
        for row in snapshot.syscalls
        if (row.count or any(snapshot.syscall_trends.get(row.slot, ())))
        and (not state.failures_only or row.errors)
        and (wanted.matches("sys", row.label) or row.slot in called_by_match)
    ]


def is_own(state: ViewState, row: ProcessRow) -> bool:
    """Return True for syscalltop itself and the man-page look-ups it started (and what those
    run in turn): hidden unless --show-self."""
    if state.own_pid is None:
        return False
    spawned = state.own_children
    return row.pid == state.own_pid or row.pid in spawned or row.ppid in spawned


def visible_callers(
    snapshot: Snapshot, state: ViewState, slot: int
) -> list[tuple[ProcessRow, ProcessSyscallRow]]:
    """Return a syscall's callers, without syscalltop's own look-ups."""
    return [(p, c) for p, c in snapshot.callers(slot) if not is_own(state, p)]


def visible_processes(snapshot: Snapshot, state: ViewState) -> list[ProcessRow]:
    """Return the process rows the dashboard shows, filtered by comm (or their syscalls)."""
    targets_by_pid: dict[int, list[str]] = {}
    for target in snapshot.targets:
        targets_by_pid.setdefault(target.pid, []).append(target.target)
    wanted = parse_filter(state.filter_text)
    return [
        row
        for row in snapshot.processes
        if (not state.failures_only or row.errors)
        and not is_own(state, row)
        and (
            wanted.matches("comm", row.comm)
            or wanted.matches("pid", str(row.pid))
            or wanted.matches("sys", *(call.label for call in row.syscalls))
            or wanted.matches("path", *targets_by_pid.get(row.pid, ()))
            or (row.group is not None and wanted.matches("group", row.group.label, row.group.path))
        )
    ]


def visible_groups(snapshot: Snapshot, state: ViewState) -> list[GroupRow]:
    """Return the groups view's rows: containers, services, sessions the filter matches."""
    return [
        row
        for row in snapshot.groups
        if (not state.failures_only or row.errors)
        and text_matches(state, row.group.label, row.group.path, row.top_syscall)
    ]


def group_processes(snapshot: Snapshot, state: ViewState, key: str) -> list[ProcessRow]:
    """Return the processes of one group this interval."""
    group = snapshot.group(key)
    if group is None:
        return []
    pids = set(group.pids)
    return [row for row in visible_processes(snapshot, state) if row.pid in pids]


def group_trend(snapshot: Snapshot | None, key: str) -> Sequence[float]:
    """Return recent rates of a group for its sparkline."""
    return snapshot.group_trends.get(key, ()) if snapshot else ()


def visible_inflight(snapshot: Snapshot, state: ViewState) -> list[InflightRow]:
    """Return the in-flight threads the filter matches."""
    return [
        row
        for row in snapshot.inflight
        if text_matches(state, row.comm, row.thread, row.label, str(row.pid), row.target)
        and not (state.hide_waits and row.name in IDLE_WAITS)
    ]


@dataclass(frozen=True, slots=True)
class ErrorRow:
    """One (errno, syscall) pair this interval, with its busiest failing caller."""

    errno: str
    syscall: SyscallRow
    count: int
    top_caller: str
    top_target: str = ""
    targets: tuple[TargetRow, ...] = ()


def error_rows(snapshot: Snapshot, state: ViewState) -> list[ErrorRow]:
    """Return the errors view's rows: each (errno, syscall), its top target and failing caller."""
    rows: list[ErrorRow] = []
    for row in snapshot.syscalls:
        if not row.errors:
            continue
        failing = [(p, c) for p, c in visible_callers(snapshot, state, row.slot) if c.errors]
        failing.sort(key=lambda pair: -pair[1].errors)
        top = f"{failing[0][0].comm}[{failing[0][0].pid}]" if failing else ""
        for errno_name, count in row.errnos:
            targets = tuple(t for t in snapshot.targets_of(slot=row.slot) if t.errno == errno_name)
            top_target = targets[0].target if targets else ""
            rows.append(ErrorRow(errno_name, row, count, top, top_target, targets))
    return [
        r
        for r in rows
        if text_matches(
            state, r.errno, r.syscall.label, r.top_caller, *(t.target for t in r.targets)
        )
    ]


def target_rows(snapshot: Snapshot, state: ViewState, slot: int, errno: str) -> list[TargetRow]:
    """Return the targets view's rows: where one syscall failed with one errno, most first."""
    return [
        t
        for t in snapshot.targets_of(slot=slot)
        if t.errno == errno and text_matches(state, t.target, t.comm, str(t.pid))
    ]


def profile_target(view: View, snapshot: Snapshot | None) -> tuple[frozenset[int], str] | None:
    """Return the pids and the name a seccomp profile (P) of this view covers, or None."""
    if view.kind is ViewKind.PROCESS and view.key is not None:
        return frozenset({view.key}), f"pid {view.key}"
    if view.kind is ViewKind.GROUP and view.detail and snapshot is not None:
        group = snapshot.group(view.detail)
        if group is not None and group.pids:
            return frozenset(group.pids), group.group.label
    return None


def syscall_trend(snapshot: Snapshot | None, slot: int) -> Sequence[float]:
    """Return recent rates of a syscall for its sparkline."""
    return snapshot.syscall_trends.get(slot, ()) if snapshot else ()


def process_trend(snapshot: Snapshot | None, pid: int) -> Sequence[float]:
    """Return recent rates of a process for its sparkline."""
    return snapshot.process_trends.get(pid, ()) if snapshot else ()


def is_flagged_slot(snapshot: Snapshot | None, slot: int) -> bool:
    """Return True when a syscall is above its baseline (or just did something new)."""
    return snapshot is not None and slot in snapshot.flagged_slots


def is_flagged_pid(snapshot: Snapshot | None, pid: int) -> bool:
    """Return True when a process is above its baseline (or just did something new)."""
    return snapshot is not None and pid in snapshot.flagged_pids


# -- what a screen draws from: the app hands each screen one of these ------------------------


@dataclass(frozen=True, slots=True)
class StatusFacts:
    """Facts fixed for the session, shown beside the live numbers."""

    host: str
    kernel: str
    cpus: int
    source: str
    sample_every: int
    filters: str
    headers: str | None = None
    tier: str = "full"  # "counts": no latency, no in-flight list, no captured calls


@dataclass(frozen=True, slots=True)
class LoggedAnomaly:
    """An anomaly with its place in the log."""

    sequence: int
    anomaly: Anomaly


@dataclass(frozen=True, slots=True)
class Frame:
    """Everything a screen shows at one moment: the interval, the view state and the facts."""

    snapshot: Snapshot | None
    view: ViewState
    facts: StatusFacts
    names: SyscallNames
    own_cpu_pct: float | None = None
    replay_bar: str | None = None
    anomaly_log: tuple[LoggedAnomaly, ...] = ()
    # From the config file: Top syscalls' sort column, and the columns no table shows.
    settings: tuple[str | None, tuple[str, ...]] = (None, ())
