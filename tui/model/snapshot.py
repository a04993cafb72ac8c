"""Turn two successive cumulative readings into what one interval looked like."""

from __future__ import annotations

import operator
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import astuple, dataclass, field, replace
from typing import NamedTuple

from tui.model.anomaly import (
    WAITING_SYSCALLS,
    Anomaly,
    AnomalyDetector,
    AnomalySettings,
    Observation,
)
from tui.model.cgroups import Group, classify
from tui.model.decode import decode_call
from tui.model.histogram import LatencySummary, highest_bound_ns
from tui.model.history import RateHistory
from tui.model.names import SlotName, SyscallNames, errno_name
from tui.model.prototypes import Prototype, shipped_prototypes
from tui.model.readings import (
    REASON_FAILED,
    REASON_NEW,
    REASON_NEW_ERRNO,
    REASON_SAMPLED,
    REASON_SLOW,
    CallCounters,
    CaptureCounts,
    LossCounters,
    ProcessCallCounters,
    RawReading,
    SampleEvent,
)

RECENT_SAMPLES_KEPT = 64
CALLS_KEPT_PER_PROCESS = 8  # the process drill-down's "recent calls"


@dataclass(frozen=True, slots=True)
class ProcessIdentity:
    """Who a process is, as far as user space can tell."""

    comm: str
    user: str
    cmdline: str = ""
    seccomp: str = ""  # /proc/PID/status Seccomp: disabled, strict or filter ("" unknown)
    ppid: int = 0


# (pid, uid, kernel comm, known gone): a process the reading marks exited needs no /proc.
DescribeProcess = Callable[[int, int, str, bool], ProcessIdentity]


def kernel_identity(pid: int, uid: int, kernel_comm: str, gone: bool = False) -> ProcessIdentity:
    """Describe a process from what the kernel recorded alone (no /proc look-ups)."""
    return ProcessIdentity(comm=kernel_comm, user=str(uid))


@dataclass(frozen=True, slots=True)
class CallDelta:
    """Counters of one interval, with the cumulative total beside them."""

    count: int
    total: int
    errors: int
    errors_total: int
    hist: tuple[int, ...]
    latency_sum_ns: int
    latency_max_ns: int | None  # this interval's (exact, or capped by a bucket bound)
    fine_hist: tuple[int, ...] = ()  # this interval's, when it holds every timed call

    @property
    def latency(self) -> LatencySummary:
        """Return the interval's latency summary (computed on demand: most are never shown)."""
        return LatencySummary.from_hist(
            self.hist, self.latency_sum_ns, self.latency_max_ns, self.fine_hist
        )


@dataclass(frozen=True, slots=True)
class SyscallRow:
    """One syscall over one interval."""

    slot: int
    nr: int
    name: str
    compat: bool
    count: int
    total: int
    rate: float
    errors: int
    errors_total: int
    error_rate: float
    errnos: tuple[tuple[str, int], ...]
    errnos_total: tuple[tuple[str, int], ...]
    latency: LatencySummary
    hist: tuple[int, ...]
    share: float
    # Failing calls captured with their arguments, and those the budget suppressed.
    failures_captured: int = 0
    failures_suppressed: int = 0

    @property
    def label(self) -> str:
        """Return the display name, compat calls marked."""
        return f"{self.name} (i386)" if self.compat else self.name

    @property
    def error_pct(self) -> float:
        """Return the share of this interval's calls that failed, in percent."""
        return 100.0 * self.errors / self.count if self.count else 0.0


# A named tuple, not a frozen dataclass: one is built per (process, syscall) each interval.
class ProcessSyscallRow(NamedTuple):
    """One syscall within one process over one interval."""

    slot: int
    name: str
    compat: bool
    count: int  # type: ignore[assignment]  # a field here, not tuple.count
    total: int
    rate: float
    errors: int
    # The interval's histogram, latency sum and max; summarised only when shown (most of
    # these rows, one per process and syscall, never are).
    hist: tuple[int, ...]
    latency_sum_ns: int
    latency_max_ns: int | None

    @property
    def label(self) -> str:
        """Return the display name, compat calls marked."""
        return f"{self.name} (i386)" if self.compat else self.name

    @property
    def latency(self) -> LatencySummary:
        """Return this interval's latency summary of the calls."""
        return LatencySummary.from_hist(self.hist, self.latency_sum_ns, self.latency_max_ns)


@dataclass(frozen=True, slots=True)
class ProcessRow:
    """One process over one interval."""

    pid: int
    comm: str
    user: str
    uid: int
    cmdline: str
    count: int
    total: int
    rate: float
    errors: int
    error_rate: float
    syscalls: tuple[ProcessSyscallRow, ...]
    exited: bool = False  # gone by the end of the interval: this row is its last
    cgroup_id: int = 0
    group: Group | None = None  # where it made most of its calls this interval
    seccomp: str = ""
    ppid: int = 0

    @property
    def top_syscall(self) -> str:
        """Return the label of the syscall this process made most this interval."""
        return self.syscalls[0].label if self.syscalls else ""


@dataclass(frozen=True, slots=True)
class Incident:
    """An anomaly episode: what (kind, syscall), who, when it started, its peak, its value
    now, and whether it is still going on."""

    sequence: int
    kind: str
    syscall: str
    slot: int
    pid: int | None
    comm: str
    started: float
    baseline: float
    peak: float
    now: float
    active: bool
    severity: str

    @property
    def who(self) -> str:
        """Return `comm[pid]`, or "" for no one process."""
        return f"{self.comm}[{self.pid}]" if self.pid is not None else ""

    def describe(self) -> str:
        """Return the episode in a line: `rate read by nginx[42]: peak 191k/s (x540)`."""
        who = f" by {self.who}" if self.who else ""
        if self.kind == "novel":
            return f"first {self.syscall}{who}"
        unit = "ns p99" if self.kind == "latency" else "/s"
        times = f"x{self.peak / self.baseline:,.0f}" if self.baseline > 0 else "from 0"
        return f"{self.kind} {self.syscall}{who}: peak {self.peak:,.0f}{unit} ({times} baseline)"


INCIDENTS_KEPT = 200


@dataclass(frozen=True, slots=True)
class GroupRow:
    """A container, service, session or slice over one interval: its processes together."""

    group: Group
    cgroup_ids: tuple[int, ...]
    count: int
    rate: float
    errors: int
    error_rate: float
    pids: tuple[int, ...]
    top_syscall: str
    top_errno: str  # from the failing calls captured this interval ("" when none)

    @property
    def key(self) -> str:
        """Return the row's identity: its kind and full id."""
        return f"{self.group.kind}:{self.group.id}"


def unknown_group(cgroup_id: int) -> Group:
    """Return the group of a cgroup id no path is known for (gone before it was seen)."""
    return Group("cgroup", f"id {cgroup_id}", str(cgroup_id), "?")


@dataclass(frozen=True, slots=True)
class SampleRow:
    """A sampled call, decoded for display."""

    exit_ns: int
    pid: int
    tid: int
    uid: int
    cpu: int
    comm: str
    slot: int
    name: str
    compat: bool
    args: tuple[int, ...]
    ret: int
    errno: str | None
    duration_ns: int | None
    cgroup_id: int
    # Why it was sent (sampled, failed, slow, first of its pair), and what it was about.
    reasons: int = REASON_SAMPLED
    call: str = ""
    target: str | None = None

    @property
    def why(self) -> str:
        """Return the reasons in words: "failed, slow"."""
        return ", ".join(word for bit, word in REASON_WORDS if self.reasons & bit)


REASON_WORDS = (
    (REASON_FAILED, "failed"),
    (REASON_SLOW, "slow"),
    (REASON_NEW, "first"),
    (REASON_NEW_ERRNO, "new-errno"),
    (REASON_SAMPLED, "sampled"),
)


@dataclass(frozen=True, slots=True)
class TargetRow:
    """A path, address or file that calls failed on this interval, from the captured calls."""

    slot: int
    syscall: str
    errno: str
    target: str
    count: int
    pid: int
    comm: str
    call: str


@dataclass(frozen=True, slots=True)
class InflightRow:
    """A thread inside a syscall at the end of the interval."""

    pid: int
    tid: int
    comm: str
    slot: int
    name: str
    compat: bool
    elapsed_ns: int
    lower_bound: bool
    thread: str = ""
    wchan: str = ""
    target: str = ""

    @property
    def label(self) -> str:
        """Return the display name, compat calls marked."""
        return f"{self.name} (i386)" if self.compat else self.name


@dataclass(frozen=True, slots=True)
class Totals:
    """All syscalls together over one interval."""

    count: int
    total: int
    errors: int
    errors_total: int
    rate: float
    error_rate: float
    loss: LossCounters
    lost_samples_interval: int


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything the UI and exporters show for one interval."""

    wall_time: float
    monotonic_ns: int
    interval_s: float
    totals: Totals
    syscalls: tuple[SyscallRow, ...]
    processes: tuple[ProcessRow, ...]
    samples: tuple[SampleRow, ...]
    # Each live process's last calls: a quiet one keeps its own after busy ones fill `samples`.
    recent_by_pid: Mapping[int, tuple[SampleRow, ...]] = field(default_factory=dict)
    inflight: tuple[InflightRow, ...] = ()
    anomalies: tuple[Anomaly, ...] = ()
    flagged_slots: frozenset[int] = frozenset()
    flagged_pids: frozenset[int] = frozenset()
    exited_pids: frozenset[int] = frozenset()
    unhistogrammed: frozenset[int] = frozenset()  # timed, but no histogram row was left
    warming_up: bool = False
    syscall_trends: dict[int, tuple[float, ...]] = field(default_factory=dict)
    process_trends: dict[int, tuple[float, ...]] = field(default_factory=dict)
    # This interval's failing targets (most failures first), slowest captured calls, and
    # how many distinct targets did not fit.
    targets: tuple[TargetRow, ...] = ()
    slowest: tuple[SampleRow, ...] = ()
    targets_dropped: int = 0
    groups: tuple[GroupRow, ...] = ()
    group_trends: dict[str, tuple[float, ...]] = field(default_factory=dict)
    # Each syscall's latency histograms of the last intervals, oldest first (the heatmap).
    hist_history: dict[int, tuple[tuple[int, ...], ...]] = field(default_factory=dict)
    incidents: tuple[Incident, ...] = ()  # active first, then newest first

    @property
    def active_incidents(self) -> int:
        """Return how many incidents are going on."""
        return sum(1 for incident in self.incidents if incident.active)

    def group(self, key: str) -> GroupRow | None:
        """Return the group row with this key."""
        return next((row for row in self.groups if row.key == key), None)

    def calls_of(self, pid: int) -> tuple[SampleRow, ...]:
        """Return a process's last sampled and captured calls, oldest first."""
        return self.recent_by_pid.get(pid, ())

    def targets_of(self, slot: int | None = None, pid: int | None = None) -> list[TargetRow]:
        """Return the failing targets of a syscall and/or a process."""
        return [
            t
            for t in self.targets
            if (slot is None or t.slot == slot) and (pid is None or t.pid == pid)
        ]

    def syscall(self, slot: int) -> SyscallRow | None:
        """Return the row of a slot, or None when it has never been called."""
        for row in self.syscalls:
            if row.slot == slot:
                return row
        return None

    def process(self, pid: int) -> ProcessRow | None:
        """Return the row of a pid, or None when it made no call this interval."""
        for row in self.processes:
            if row.pid == pid:
                return row
        return None

    def callers(self, slot: int) -> list[tuple[ProcessRow, ProcessSyscallRow]]:
        """Return the processes that made a syscall this interval, busiest first."""
        found = [
            (process, call)
            for process in self.processes
            for call in process.syscalls
            if call.slot == slot and call.count
        ]
        found.sort(key=lambda pair: (-pair[1].count, pair[0].pid))
        return found


_ZERO = CallCounters()
_new_tuple = tuple.__new__


def call_delta(now: CallCounters, prev: CallCounters | None) -> CallDelta:
    """Return the interval's counters; a counter that went down started afresh (pid reuse)."""
    if prev is None or now.count < prev.count:
        prev = _ZERO
    if prev is _ZERO:
        hist = now.latency_hist  # shared, not copied: most entries under churn are new
    else:
        hist = tuple(map(operator.sub, now.latency_hist, prev.latency_hist))
    return CallDelta(
        count=now.count - prev.count,
        total=now.count,
        errors=now.errors - prev.errors,
        errors_total=now.errors,
        hist=hist,
        latency_sum_ns=now.latency_sum_ns - prev.latency_sum_ns,
        latency_max_ns=_interval_max(now, prev.latency_max_ns, hist),
        fine_hist=_fine_delta(now.fine_hist, prev.fine_hist, hist) if any(hist) else (),
    )


def _interval_max(now: CallCounters, prev_max_ns: int, hist: tuple[int, ...]) -> int | None:
    """Return the interval's largest duration: exact where the kernel keeps it per epoch."""
    if now.interval_max_ns is not None:
        return _epoch_max(now.interval_max_ns, _top_bucket(hist))
    # Only the max since start is known: it is this interval's when it grew now.
    if now.latency_max_ns != prev_max_ns:
        return now.latency_max_ns
    bound = highest_bound_ns(hist)
    return min(bound, now.latency_max_ns) if bound is not None else None


def _top_bucket(hist: tuple[int, ...]) -> int:
    """Return the highest non-empty bucket of a histogram, -1 when it is empty."""
    for bucket in range(len(hist) - 1, -1, -1):
        if hist[bucket]:
            return bucket
    return -1


def _epoch_max(interval_max_ns: int, top_bucket: int) -> int | None:
    """Return the max the kernel kept for this read epoch (None when no call was timed)."""
    if not interval_max_ns or top_bucket < 0:
        return None
    if top_bucket >= interval_max_ns.bit_length():
        # A call that ended as the epoch turned is in this histogram but the next max:
        # the max is at least the low bound of the highest bucket.
        return max(interval_max_ns, 1 << top_bucket)
    return interval_max_ns


def _fine_delta(
    now: tuple[int, ...], prev: tuple[int, ...], hist: tuple[int, ...]
) -> tuple[int, ...]:
    """Return the interval's fine histogram, or () unless it holds every timed call (a
    syscall's row starts after its first calls, and rows run out)."""
    if not now:
        return ()
    fine = tuple(map(operator.sub, now, prev)) if prev else now
    return fine if sum(fine) == sum(hist) else ()


def _idle_delta(counters: CallCounters) -> CallDelta:
    return CallDelta(
        count=0,
        total=counters.count,
        errors=0,
        errors_total=counters.errors,
        hist=_ZERO.latency_hist,
        latency_sum_ns=0,
        latency_max_ns=None,
    )


def _rate(count: int, interval_s: float) -> float:
    return count / interval_s if interval_s > 0 else 0.0


ErrnoCounts = tuple[tuple[str, int], ...]


def _errno_rows_by_slot(
    counts: dict[tuple[int, int], int], prev: dict[tuple[int, int], int]
) -> dict[int, tuple[ErrnoCounts, ErrnoCounts]]:
    """Return, per slot, (this interval's, all-time) errno counts, busiest first."""
    interval: dict[int, list[tuple[str, int]]] = {}
    total: dict[int, list[tuple[str, int]]] = {}
    for (slot, value), count in counts.items():
        name = errno_name(value)
        total.setdefault(slot, []).append((name, count))
        grown = count - prev.get((slot, value), 0)
        if grown > 0:
            interval.setdefault(slot, []).append((name, grown))

    def ordered(items: list[tuple[str, int]]) -> ErrnoCounts:
        return tuple(sorted(items, key=lambda item: (-item[1], item[0])))

    return {
        slot: (ordered(interval.get(slot, [])), ordered(items)) for slot, items in total.items()
    }


def _decode_samples(
    samples: tuple[SampleEvent, ...],
    names: SyscallNames,
    prototypes: Mapping[str, Prototype],
    exited: frozenset[int] = frozenset(),
) -> tuple[SampleRow, ...]:
    """Return the rows of the interval's calls that something shows: every failed or slow
    call, every call of a process still running, and the newest RECENT_SAMPLES_KEPT.

    The rest (under churn, most: the first calls of processes gone by the read) would reach
    no screen, target or export, so their arguments are not decoded."""
    rows: list[SampleRow] = []
    tail_from = len(samples) - RECENT_SAMPLES_KEPT
    for index, event in enumerate(samples):
        failed = -4095 <= event.ret < 0
        if not (
            failed or index >= tail_from or event.tgid not in exited or event.reasons & REASON_SLOW
        ):
            continue
        decoded = names.decode(event.slot)
        call = decode_call(
            decoded.name,
            prototypes.get(decoded.name),
            event.args,
            event.strings,
            event.truncated,
            event.addr,
            event.ret,
            dict(event.fd_targets),
            event.argv_more,
        )
        rows.append(
            SampleRow(
                exit_ns=event.exit_ns,
                pid=event.tgid,
                tid=event.tid,
                uid=event.uid,
                cpu=event.cpu,
                comm=event.comm,
                slot=event.slot,
                name=decoded.name,
                compat=decoded.compat,
                args=event.args,
                ret=event.ret,
                errno=errno_name(-event.ret) if failed else None,
                duration_ns=event.duration_ns if event.timed else None,
                cgroup_id=event.cgroup_id,
                reasons=event.reasons,
                call=call.text,
                target=call.target,
            )
        )
    return tuple(rows)


MAX_TARGETS = 200
SLOWEST_KEPT = 10


def _failing_targets(rows: Iterable[SampleRow]) -> tuple[tuple[TargetRow, ...], int]:
    """Return failed calls grouped by (syscall, errno, target), and how many groups did not fit."""
    groups: dict[tuple[int, str, str], list[SampleRow]] = {}
    dropped: set[tuple[int, str, str]] = set()
    for row in rows:
        if row.errno is None or row.target is None:
            continue
        key = (row.slot, row.errno, row.target)
        if key not in groups and len(groups) >= MAX_TARGETS:
            dropped.add(key)
            continue
        groups.setdefault(key, []).append(row)
    found = []
    for (slot, errno_text, target), calls in groups.items():
        by_pid: dict[int, int] = {}
        for call in calls:
            by_pid[call.pid] = by_pid.get(call.pid, 0) + 1
        pid = max(by_pid, key=lambda p: (by_pid[p], -p))
        example = next(c for c in reversed(calls) if c.pid == pid)
        label = f"{example.name} (i386)" if example.compat else example.name
        found.append(
            TargetRow(slot, label, errno_text, target, len(calls), pid, example.comm, example.call)
        )
    found.sort(key=lambda t: (-t.count, t.syscall, t.target))
    return tuple(found), len(dropped)


def _slowest(rows: Iterable[SampleRow]) -> tuple[SampleRow, ...]:
    timed = [row for row in rows if row.duration_ns is not None and row.reasons & REASON_SLOW]
    timed.sort(key=lambda row: -(row.duration_ns or 0))
    return tuple(timed[:SLOWEST_KEPT])


def build_snapshot(
    prev: RawReading,
    now: RawReading,
    names: SyscallNames,
    describe: DescribeProcess = kernel_identity,
    prev_samples: tuple[SampleRow, ...] = (),
    prototypes: Mapping[str, Prototype] | None = None,
    prev_by_pid: Mapping[int, tuple[SampleRow, ...]] | None = None,
    prev_inflight: tuple[InflightRow, ...] = (),
) -> Snapshot:
    """Return the interval between two readings of the same source."""
    interval_s = max(now.monotonic_ns - prev.monotonic_ns, 0) / 1e9

    syscall_rows: list[SyscallRow] = []
    errnos_by_slot = _errno_rows_by_slot(now.errnos, prev.errnos)
    for slot, counters in now.syscalls.items():
        if counters.count == 0:
            continue
        before = prev.syscalls.get(slot)
        # Sources hand back the same object for an unchanged slot: nothing happened.
        delta = _idle_delta(counters) if before is counters else call_delta(counters, before)
        decoded = names.decode(slot)
        errnos, errnos_total = errnos_by_slot.get(slot, ((), ()))
        captured = _capture_delta(now.captures.get(slot), prev.captures.get(slot))
        syscall_rows.append(
            SyscallRow(
                slot=slot,
                nr=decoded.nr,
                name=decoded.name,
                compat=decoded.compat,
                count=delta.count,
                total=delta.total,
                rate=_rate(delta.count, interval_s),
                errors=delta.errors,
                errors_total=delta.errors_total,
                error_rate=_rate(delta.errors, interval_s),
                errnos=errnos,
                errnos_total=errnos_total,
                latency=delta.latency,
                hist=delta.hist,
                share=0.0,
                failures_captured=captured.failed_sent,
                failures_suppressed=captured.failed_suppressed,
            )
        )
    interval_count = sum(row.count for row in syscall_rows)
    syscall_rows = [
        _with_share(row, interval_count)
        for row in sorted(syscall_rows, key=lambda r: (-r.count, -r.total, r.slot))
    ]

    processes, per_cgroup = _process_rows(prev, now, names, describe, interval_s)

    lost_now = now.loss.lost_samples
    totals = Totals(
        count=interval_count,
        total=sum(row.total for row in syscall_rows),
        errors=sum(row.errors for row in syscall_rows),
        errors_total=sum(row.errors_total for row in syscall_rows),
        rate=_rate(interval_count, interval_s),
        error_rate=_rate(sum(row.errors for row in syscall_rows), interval_s),
        loss=now.loss,
        lost_samples_interval=max(lost_now - prev.loss.lost_samples, 0),
    )
    calls = _decode_samples(now.samples, names, prototypes or shipped_prototypes(), now.exited)
    samples = (prev_samples + calls)[-RECENT_SAMPLES_KEPT:]
    targets, targets_dropped = _failing_targets(calls)
    recent_by_pid = _recent_by_pid(prev_by_pid or {}, calls, now.exited)
    return Snapshot(
        groups=_group_rows(per_cgroup, processes, now.cgroup_paths, calls, interval_s),
        targets=targets,
        targets_dropped=targets_dropped,
        slowest=_slowest(calls),
        inflight=_inflight_rows(now, names, describe, processes, prev_inflight),
        wall_time=now.wall_time,
        monotonic_ns=now.monotonic_ns,
        interval_s=interval_s,
        totals=totals,
        syscalls=tuple(syscall_rows),
        processes=processes,
        samples=samples,
        recent_by_pid=recent_by_pid,
        exited_pids=now.exited,
        unhistogrammed=now.unhistogrammed,
    )


def _recent_by_pid(
    prev: Mapping[int, tuple[SampleRow, ...]],
    calls: Iterable[SampleRow],
    exited: frozenset[int],
) -> dict[int, tuple[SampleRow, ...]]:
    """Return each process's last calls: the earlier ones, this interval's appended, the
    processes that left forgotten (bounded under pid churn)."""
    added: dict[int, list[SampleRow]] = {}
    for call in calls:
        added.setdefault(call.pid, []).append(call)
    recent = {pid: kept for pid, kept in prev.items() if pid not in exited}
    for pid, new in added.items():
        if pid not in exited:
            recent[pid] = (recent.get(pid, ()) + tuple(new))[-CALLS_KEPT_PER_PROCESS:]
    return recent


def _capture_delta(now: CaptureCounts | None, prev: CaptureCounts | None) -> CaptureCounts:
    if now is None:
        return CaptureCounts()
    if prev is None:
        return now
    return CaptureCounts(*(max(a - b, 0) for a, b in zip(astuple(now), astuple(prev), strict=True)))


def _inflight_rows(
    now: RawReading,
    names: SyscallNames,
    describe: DescribeProcess,
    processes: tuple[ProcessRow, ...],
    prev_inflight: tuple[InflightRow, ...],
) -> tuple[InflightRow, ...]:
    """Return the threads inside a syscall at `now`, longest first."""
    if not now.inflight:
        return ()
    # Once per process: a server's thread pool is hundreds of threads of one process waiting.
    # A process that made calls this interval was described for its row just now; one that
    # made none cannot have renamed itself or exec'd (both are calls) since the last read
    # named it. Only the rest are looked up: on a server most processes sit blocked in one
    # call, and a /proc look-up of each, every interval, was most of the idle cost.
    comm_of = {row.pid: row.comm for row in prev_inflight}
    comm_of.update((row.pid, row.comm) for row in processes)
    entry_of: dict[int, ProcessCallCounters] | None = None
    rows: list[InflightRow] = []
    for call in now.inflight:
        decoded = names.decode(call.slot)
        comm = comm_of.get(call.tgid)
        if comm is None:
            if entry_of is None:
                # What the kernel recorded of each process (uid, comm), from any one entry.
                entry_of = {entry.tgid: entry for entry in now.processes.values()}
            entry = entry_of.get(call.tgid)
            comm = comm_of[call.tgid] = describe(
                call.tgid, entry.uid if entry else 0, entry.comm if entry else "?", False
            ).comm
        rows.append(
            InflightRow(
                pid=call.tgid,
                tid=call.tid,
                comm=comm,
                slot=call.slot,
                name=decoded.name,
                compat=decoded.compat,
                elapsed_ns=max(now.monotonic_ns - call.enter_ns, 0),
                lower_bound=call.lower_bound,
                thread=call.thread,
                wchan=call.wchan,
                target=call.target,
            )
        )
    rows.sort(key=lambda row: (-row.elapsed_ns, row.tid))
    return tuple(rows)


def _with_share(row: SyscallRow, interval_count: int) -> SyscallRow:
    share = 100.0 * row.count / interval_count if interval_count else 0.0
    return replace(row, share=share)


class _CgroupTally:
    """One cgroup's interval, summed while the process rows are built (never leaves here)."""

    __slots__ = ("by_syscall", "count", "errors", "pids")

    def __init__(self) -> None:
        self.count = 0
        self.errors = 0
        self.pids: set[int] = set()
        self.by_syscall: dict[str, int] = {}


_SLOT_OF = operator.attrgetter("slot")
_COUNT_OF = operator.attrgetter("count")
_ERRORS_OF = operator.attrgetter("errors")
_CGROUP_OF = operator.attrgetter("cgroup_id")


def _process_rows(
    prev: RawReading,
    now: RawReading,
    names: SyscallNames,
    describe: DescribeProcess,
    interval_s: float,
) -> tuple[tuple[ProcessRow, ...], dict[int, _CgroupTally]]:
    """Return the process rows, and per cgroup id what its processes did this interval."""
    per_cgroup: dict[int, _CgroupTally] = {}
    by_pid: dict[int, tuple[list[ProcessCallCounters], list[ProcessSyscallRow]]] = {}
    totals: dict[int, int] = {}  # each process's calls since start, idle entries included
    exited = prev.exited
    before_of = prev.processes.get
    decoded_of: dict[int, SlotName] = {}
    top_of: dict[int, int] = {}  # id of a histogram (alive while now is) → its top bucket
    # One pass over the entries, one row each: under churn there are ~20 per process.
    for key, entry in now.processes.items():
        pid, slot = key
        counters = entry.counters
        total = counters.count
        totals[pid] = totals.get(pid, 0) + total
        # A process that had exited left the map: the same pid now is a new process.
        before = before_of(key) if pid not in exited else None
        if before is None:
            if not total:
                continue
            # New this interval (most entries under churn): its counters are the interval's.
            count, errors, hist = total, counters.errors, counters.latency_hist
            sum_ns = counters.latency_sum_ns
            epoch_max = counters.interval_max_ns
            if epoch_max is None:
                max_ns = _interval_max(counters, 0, hist)
            else:
                # Entries share their histogram objects (sources intern them): scan each once.
                top = top_of.get(id(hist))
                if top is None:
                    top = top_of[id(hist)] = _top_bucket(hist)
                if epoch_max and 0 <= top < epoch_max.bit_length():
                    max_ns = epoch_max  # _epoch_max's usual answer, inlined: per entry
                else:
                    max_ns = _epoch_max(epoch_max, top)
        elif before.counters is counters:
            continue  # sources hand back the same object for an unchanged entry: idle
        else:
            delta = call_delta(counters, before.counters)
            if not delta.count:
                continue
            count, errors, hist = delta.count, delta.errors, delta.hist
            sum_ns, max_ns = delta.latency_sum_ns, delta.latency_max_ns
        decoded = decoded_of.get(slot)
        if decoded is None:
            decoded = decoded_of[slot] = names.decode(slot)
        # tuple.__new__ straight away: a named tuple's own constructor is one more Python call.
        call = _new_tuple(
            ProcessSyscallRow,
            (
                slot,
                decoded.name,
                decoded.compat,
                count,
                total,
                count / interval_s if interval_s > 0 else 0.0,  # _rate, inlined: per entry
                errors,
                hist,
                sum_ns,
                max_ns,
            ),
        )
        found = by_pid.get(pid)
        if found is None:
            by_pid[pid] = ([entry], [call])
        else:
            found[0].append(entry)
            found[1].append(call)

    rows: list[ProcessRow] = []
    for pid, (entries, calls) in by_pid.items():
        count = sum(map(_COUNT_OF, calls))
        errors = sum(map(_ERRORS_OF, calls))
        cgroups = set(map(_CGROUP_OF, entries))
        if len(cgroups) == 1:  # the usual case: the whole interval in one cgroup
            (cgroup_id,) = cgroups
            _tally(per_cgroup, cgroup_id, pid, calls, count, errors)
        else:
            by_cgroup: dict[int, list[ProcessSyscallRow]] = {}
            for entry, call in zip(entries, calls, strict=True):
                by_cgroup.setdefault(entry.cgroup_id, []).append(call)
            calls_in = {c: sum(map(_COUNT_OF, part)) for c, part in by_cgroup.items()}
            for cgroup, part in by_cgroup.items():
                _tally(per_cgroup, cgroup, pid, part, calls_in[cgroup], sum(map(_ERRORS_OF, part)))
            cgroup_id = max(calls_in, key=lambda c: (calls_in[c], c))
        # The entry created last carries the newest comm the kernel saw (after a rename):
        # the one with most calls this interval, then most in all (the first such one).
        newest = entries[max(range(len(calls)), key=lambda i: (calls[i].count, calls[i].total))]
        # Busiest first, then by slot: two sorts on C-level keys (the sort is stable).
        calls.sort(key=_SLOT_OF)
        calls.sort(key=_COUNT_OF, reverse=True)
        path = now.cgroup_paths.get(cgroup_id)
        identity = describe(pid, newest.uid, newest.comm, pid in now.exited)
        rows.append(
            ProcessRow(
                pid=pid,
                comm=identity.comm,
                user=identity.user,
                uid=newest.uid,
                cmdline=identity.cmdline,
                count=count,
                total=totals[pid],
                rate=_rate(count, interval_s),
                errors=errors,
                error_rate=_rate(errors, interval_s),
                syscalls=tuple(calls),
                exited=pid in now.exited,
                cgroup_id=cgroup_id,
                seccomp=identity.seccomp,
                ppid=identity.ppid,
                group=classify(path)
                if path is not None
                else (unknown_group(cgroup_id) if cgroup_id else None),
            )
        )
    rows.sort(key=lambda r: (-r.count, r.pid))
    return tuple(rows), per_cgroup


def _tally(
    per_cgroup: dict[int, _CgroupTally],
    cgroup_id: int,
    pid: int,
    calls: list[ProcessSyscallRow],
    count: int,
    errors: int,
) -> None:
    """Add one process's calls in one cgroup to that cgroup's interval."""
    tally = per_cgroup.get(cgroup_id)
    if tally is None:
        tally = per_cgroup[cgroup_id] = _CgroupTally()
    tally.count += count
    tally.errors += errors
    tally.pids.add(pid)
    by_syscall = tally.by_syscall
    for call in calls:
        label = f"{call.name} (i386)" if call.compat else call.name  # call.label, inlined
        by_syscall[label] = by_syscall.get(label, 0) + call.count


def _group_rows(
    per_cgroup: dict[int, _CgroupTally],
    processes: tuple[ProcessRow, ...],
    paths: dict[int, str],
    calls: tuple[SampleRow, ...],
    interval_s: float,
) -> tuple[GroupRow, ...]:
    """Aggregate the interval's calls by the group each entry's cgroup belongs to."""
    grouped: dict[str, tuple[Group, list[int], list[_CgroupTally]]] = {}
    for cgroup_id, tally in per_cgroup.items():
        if not cgroup_id:
            continue  # a source that knows no cgroups (or a recording made before them)
        path = paths.get(cgroup_id)
        group = classify(path) if path is not None else unknown_group(cgroup_id)
        key = f"{group.kind}:{group.id}"
        _, ids, tallies = grouped.setdefault(key, (group, [], []))
        ids.append(cgroup_id)
        tallies.append(tally)
    found = []
    for group, ids, tallies in grouped.values():
        count = sum(tally.count for tally in tallies)
        errors = sum(tally.errors for tally in tallies)
        members = set().union(*(tally.pids for tally in tallies))
        pids = tuple(sorted(members))
        by_syscall: dict[str, int] = {}
        for tally in tallies:
            for label, n in tally.by_syscall.items():
                by_syscall[label] = by_syscall.get(label, 0) + n
        errnos: dict[str, int] = {}
        for call in calls:
            if call.errno is not None and call.pid in members:
                errnos[call.errno] = errnos.get(call.errno, 0) + 1
        found.append(
            GroupRow(
                group=group,
                cgroup_ids=tuple(sorted(ids)),
                count=count,
                rate=_rate(count, interval_s),
                errors=errors,
                error_rate=_rate(errors, interval_s),
                pids=pids,
                top_syscall=max(by_syscall, key=lambda k: (by_syscall[k], k)) if by_syscall else "",
                top_errno=max(errnos, key=lambda k: (errnos[k], k)) if errnos else "",
            )
        )
    found.sort(key=lambda row: (-row.count, row.key))
    return tuple(found)


class SnapshotStream:
    """Turn a sequence of readings into snapshots, keeping the previous reading."""

    def _track_incidents(
        self,
        snapshot: Snapshot,
        anomalies: list[Anomaly],
        flagged_slots: set[int],
        flagged_pids: set[int],
    ) -> tuple[Incident, ...]:
        """Fold this interval's anomalies into episodes; update peaks, values and states."""
        for anomaly in anomalies:
            pid, comm = anomaly.pid, anomaly.comm
            if pid is None:  # a syscall-wide spike: name the process making most of it
                callers = snapshot.callers(anomaly.slot)
                if callers:
                    pid, comm = callers[0][0].pid, callers[0][0].comm
            key = (anomaly.kind, anomaly.slot, pid)
            current = self._incidents.get(key)
            if current is not None and current.active:
                continue
            self._incident_sequence += 1
            self._incidents[key] = Incident(
                self._incident_sequence,
                anomaly.kind,
                anomaly.syscall,
                anomaly.slot,
                pid,
                comm,
                anomaly.wall_time,
                anomaly.baseline,
                anomaly.value,
                anomaly.value,
                True,
                anomaly.severity,
            )
        for held, incident in list(self._incidents.items()):
            now = _incident_value(snapshot, incident)
            flagged = incident.slot in flagged_slots or (
                incident.pid is not None and incident.pid in flagged_pids
            )
            active = flagged and (incident.kind != "novel" or now > 0)
            self._incidents[held] = replace(
                incident, now=now, peak=max(incident.peak, now), active=active
            )
        if len(self._incidents) > INCIDENTS_KEPT:  # the oldest ended ones go first
            ended = sorted((i.sequence, k) for k, i in self._incidents.items() if not i.active)
            for _, old in ended[: len(self._incidents) - INCIDENTS_KEPT]:
                del self._incidents[old]
        return tuple(sorted(self._incidents.values(), key=lambda i: (not i.active, -i.sequence)))

    def _record_hists(self, snapshot: Snapshot) -> None:
        """Keep each syscall's histogram per interval; a syscall idle for the whole window goes."""
        seen = {row.slot for row in snapshot.syscalls if any(row.hist)}
        for row in snapshot.syscalls:
            if row.slot in seen:
                _push_hist(self._hists, row.slot, row.hist)
        for slot in list(self._hists):
            if slot not in seen:
                series = self._hists[slot]
                series.append((0,) * len(series[-1]))
                if not any(any(hist) for hist in series):
                    del self._hists[slot]

    def __init__(
        self,
        names: SyscallNames,
        describe: DescribeProcess = kernel_identity,
        anomaly_settings: AnomalySettings | None = None,
        prototypes: Mapping[str, Prototype] | None = None,
    ) -> None:
        self.names = names
        self.prototypes = prototypes
        self.describe = describe
        self.detector = AnomalyDetector(anomaly_settings)
        self.reset_requested = False
        self.previous: RawReading | None = None
        self._recent_samples: tuple[SampleRow, ...] = ()
        self._recent_by_pid: Mapping[int, tuple[SampleRow, ...]] = {}
        self._inflight: tuple[InflightRow, ...] = ()  # the last interval's, for their names
        self._syscall_history = RateHistory()
        self._process_history = RateHistory()
        self._group_history = RateHistory()
        self._hists: dict[int, deque[tuple[int, ...]]] = {}
        self._incidents: dict[tuple[str, int, int | None], Incident] = {}
        self._incident_sequence = 0

    def push(self, reading: RawReading) -> Snapshot | None:
        """Return the interval ending at `reading`; None for the first (baseline) reading."""
        previous, self.previous = self.previous, reading
        if previous is None:
            return None
        snapshot = build_snapshot(
            previous,
            reading,
            self.names,
            self.describe,
            self._recent_samples,
            self.prototypes,
            self._recent_by_pid,
            self._inflight,
        )
        self._inflight = snapshot.inflight
        self._recent_samples = snapshot.samples
        self._recent_by_pid = snapshot.recent_by_pid
        self._syscall_history.record({row.slot: row.rate for row in snapshot.syscalls if row.count})
        self._process_history.record({row.pid: row.rate for row in snapshot.processes})
        self._group_history.record({row.key: row.rate for row in snapshot.groups})
        self._record_hists(snapshot)
        if self.reset_requested:  # asked from another thread; applied here, between intervals
            self.reset_requested = False
            self.detector.reset()
            self._incidents.clear()
        anomalies = self.detector.observe(
            snapshot.wall_time, observations(snapshot), process_calls(snapshot), reading.exited
        )
        # The kernel keeps a process's entries while it lives; a reading marks those that left.
        alive = {tgid for tgid, _ in reading.processes} - reading.exited
        self.detector.forget_gone(alive)
        process_trends = {
            row.pid: self._process_history.series(row.pid) for row in snapshot.processes
        }
        self._process_history.forget_gone(alive)
        active = self.detector.active_keys()
        flagged_slots = {int(key[1]) for key in active if key[0] == "sys"}  # type: ignore[call-overload]
        flagged_slots |= {anomaly.slot for anomaly in anomalies}
        flagged_pids = {int(key[1]) for key in active if key[0] == "pid"}  # type: ignore[call-overload]
        flagged_pids |= {anomaly.pid for anomaly in anomalies if anomaly.pid is not None}
        incidents = self._track_incidents(snapshot, anomalies, flagged_slots, flagged_pids)
        return replace(
            snapshot,
            incidents=incidents,
            anomalies=tuple(anomalies),
            flagged_slots=frozenset(flagged_slots),
            flagged_pids=frozenset(flagged_pids),
            warming_up=self.detector.warming_up,
            syscall_trends={
                row.slot: self._syscall_history.series(row.slot) for row in snapshot.syscalls
            },
            process_trends=process_trends,
            group_trends={row.key: self._group_history.series(row.key) for row in snapshot.groups},
            hist_history={slot: tuple(hists) for slot, hists in self._hists.items()},
        )


HEATMAP_INTERVALS = 24


def _incident_value(snapshot: Snapshot, incident: Incident) -> float:
    """Return what an incident measures, this interval (0 when it is quiet)."""
    if incident.pid is not None:
        process = snapshot.process(incident.pid)
        call = (
            next((c for c in process.syscalls if c.slot == incident.slot), None)
            if process
            else None
        )
        if call is None:
            return 0.0
        if incident.kind == "errors":
            return call.errors / snapshot.interval_s if snapshot.interval_s else 0.0
        if incident.kind == "latency":
            return float(call.latency.p99_ns or 0)
        return call.rate
    row = snapshot.syscall(incident.slot)
    if row is None:
        return 0.0
    if incident.kind == "errors":
        return row.error_rate
    if incident.kind == "latency":
        return float(row.latency.p99_ns or 0)
    return row.rate


def _push_hist(hists: dict[int, deque[tuple[int, ...]]], slot: int, hist: tuple[int, ...]) -> None:
    series = hists.setdefault(slot, deque(maxlen=HEATMAP_INTERVALS))
    series.append(hist)


def observations(snapshot: Snapshot) -> list[Observation]:
    """Return the series the anomaly detector watches, for one interval."""
    found: list[Observation] = []
    for row in snapshot.syscalls:
        if not row.count:
            continue
        found.append(
            Observation("rate", ("sys", row.slot, "rate"), row.rate, row.label, row.slot, None, "")
        )
        found.append(
            Observation(
                "errors", ("sys", row.slot, "errors"), row.error_rate, row.label, row.slot, None, ""
            )
        )
        if row.latency.p99_ns is not None and row.name not in WAITING_SYSCALLS:
            found.append(
                Observation(
                    "latency",
                    ("sys", row.slot, "latency"),
                    float(row.latency.p99_ns),
                    row.label,
                    row.slot,
                    None,
                    "",
                    calls=sum(row.hist),
                )
            )
    for process in snapshot.processes:
        if process.pid in snapshot.exited_pids:
            continue  # its last interval: a baseline made now would be dropped right away
        for call in process.syscalls:
            found.append(
                Observation(
                    "rate",
                    ("pid", process.pid, call.slot),
                    call.rate,
                    call.label,
                    call.slot,
                    process.pid,
                    process.comm,
                )
            )
    return found


def process_calls(snapshot: Snapshot) -> dict[int, tuple[str, tuple[ProcessSyscallRow, ...]]]:
    """Return each active process's comm and its syscall rows (each starts slot, name)."""
    return {process.pid: (process.comm, process.syscalls) for process in snapshot.processes}
