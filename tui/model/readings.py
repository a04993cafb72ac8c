"""What a source hands the model each tick: cumulative kernel counters, frozen."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

HIST_BUCKETS = 32


# CallCounters and ProcessCallCounters are named tuples, not frozen dataclasses: there is
# one of each per (process, syscall) entry at every read, and a tuple is built 3-4x faster.
class CallCounters(NamedTuple):
    """Cumulative counters for one syscall slot (globally or within one process)."""

    count: int = 0  # type: ignore[assignment]  # a field here, not tuple.count
    errors: int = 0
    latency_sum_ns: int = 0
    latency_max_ns: int = 0  # since start
    latency_hist: tuple[int, ...] = (0,) * HIST_BUCKETS
    # The largest duration of the interval that ends at this reading, where the source knows
    # it (the kernel keeps it per read epoch); None: derive it from the max since start.
    interval_max_ns: int | None = None
    # Cumulative log-linear histogram (tui/model/histogram.py) where the source keeps one;
    # it may have started later than latency_hist (a syscall gets its row once seen).
    fine_hist: tuple[int, ...] = ()

    @property
    def timed(self) -> int:
        """Return how many calls have a measured latency (paired enter and exit)."""
        return sum(self.latency_hist)


class ProcessCallCounters(NamedTuple):
    """Cumulative counters of one process for one syscall slot, with who it was."""

    tgid: int
    slot: int
    uid: int
    comm: str
    counters: CallCounters
    cgroup_id: int = 0  # the cgroup v2 of its first call (kept after the process exits)


@dataclass(frozen=True, slots=True)
class SampleEvent:
    """One sampled, completed syscall from the perf buffer."""

    exit_ns: int
    duration_ns: int
    cgroup_id: int
    ret: int
    args: tuple[int, ...]
    tgid: int
    tid: int
    uid: int
    cpu: int
    slot: int
    timed: bool
    comm: str
    # Why it was sent (bpf/syscalls.h REASON_*): sampled, failed, slow, first of its pair,
    # first failure of its syscall with its errno.
    reasons: int = 1
    # What its arguments pointed at, read in the kernel at exit: strings (raw bytes, with
    # whether each was cut at the read limit) and a socket address.
    strings: tuple[bytes, ...] = ()
    truncated: tuple[bool, ...] = ()
    addr: bytes = b""
    argv_more: bool = False  # argv went on past the strings read
    # Argument index → what that fd pointed at, looked up in /proc after the call.
    fd_targets: tuple[tuple[int, str], ...] = ()


REASON_SAMPLED, REASON_FAILED, REASON_SLOW, REASON_NEW, REASON_NEW_ERRNO = 1, 2, 4, 8, 16
REASON_BITS = (REASON_SAMPLED, REASON_FAILED, REASON_SLOW, REASON_NEW, REASON_NEW_ERRNO)


@dataclass(frozen=True, slots=True)
class CaptureCounts:
    """Cumulative capture candidates of one syscall: sent or suppressed by the budget."""

    failed_sent: int = 0
    failed_suppressed: int = 0
    other_sent: int = 0
    other_suppressed: int = 0


@dataclass(frozen=True, slots=True)
class LossCounters:
    """Every way the kernel side lost or could not time data, cumulative."""

    lost_samples: int = 0
    proc_map_full: int = 0
    errno_map_full: int = 0
    untimed_exits: int = 0
    inflight_map_full: int = 0
    stale_cpu_state: int = 0
    # Sent by the kernel but past what one read keeps (user space, bounded memory).
    events_dropped: int = 0
    # Samples the kernel's per-CPU event budget refused (bpf/syscalls.h).
    samples_throttled: int = 0


@dataclass(frozen=True, slots=True)
class InflightCall:
    """A thread inside a syscall right now: since when (monotonic ns), and whether that is exact.

    `lower_bound` marks threads already blocked when collection started: the entry time is
    unknown, so `enter_ns` is when they were first seen.
    """

    tid: int
    tgid: int
    slot: int
    enter_ns: int
    lower_bound: bool = False
    # From /proc after the read: the thread's own name, where in the kernel it waits, and
    # what its first fd argument points at (the longest waits only).
    thread: str = ""
    wchan: str = ""
    target: str = ""


@dataclass(frozen=True, slots=True)
class RawReading:
    """One read of every map, taken at `monotonic_ns` (wall clock `wall_time` for display)."""

    monotonic_ns: int
    wall_time: float
    syscalls: dict[int, CallCounters]
    errnos: dict[tuple[int, int], int]
    processes: dict[tuple[int, int], ProcessCallCounters]
    loss: LossCounters = field(default_factory=LossCounters)
    samples: tuple[SampleEvent, ...] = ()
    inflight: tuple[InflightCall, ...] = ()
    # Processes found gone at this read: their entries here are final and left the map.
    exited: frozenset[int] = frozenset()
    captures: dict[int, CaptureCounts] = field(default_factory=dict)
    # cgroup id → its path under the cgroup2 mount, for the ids of this reading's entries.
    cgroup_paths: dict[int, str] = field(default_factory=dict)
    # Syscalls timed but given no latency histogram: every --hist-rows row was taken first.
    unhistogrammed: frozenset[int] = frozenset()
