"""Anomalies against a rolling baseline: rate, error and latency spikes, and novel syscalls."""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Syscalls an incident responder wants to hear about the first time a process makes them.
SECURITY_SYSCALLS = frozenset(
    {
        "ptrace",
        "process_vm_readv",
        "process_vm_writev",
        "bpf",
        "perf_event_open",
        "init_module",
        "finit_module",
        "delete_module",
        "kexec_load",
        "kexec_file_load",
        "memfd_create",
        "memfd_secret",
        "setuid",
        "setgid",
        "setreuid",
        "setregid",
        "setresuid",
        "setresgid",
        "setfsuid",
        "setfsgid",
        "setgroups",
        "capset",
        "execve",
        "execveat",
        "mount",
        "umount2",
        "move_mount",
        "fsmount",
        "pivot_root",
        "chroot",
        "unshare",
        "setns",
        "keyctl",
        "add_key",
        "request_key",
        "userfaultfd",
        "open_by_handle_at",
        "name_to_handle_at",
        "iopl",
        "ioperm",
        "personality",
        "seccomp",
        "pidfd_getfd",
    }
)


# Flagged the first time each process makes them, baseline or not, started before us or
# not: what a responder needs to hear about at once (execve is too common for that).
FIRST_SIGHT_SYSCALLS = SECURITY_SYSCALLS - {
    "execve",
    "execveat",
    "perf_event_open",
    "personality",
    "seccomp",
    "name_to_handle_at",
}

FORGET_AFTER_INTERVALS = 600


# Housekeeping any healthy process starts calling at random (allocator, locks, timers): a
# first use of these is not news, so they never count as novel.
ROUTINE_SYSCALLS = frozenset(
    {
        "brk",
        "mmap",
        "munmap",
        "mremap",
        "madvise",
        "mprotect",
        "futex",
        "sched_yield",
        "getrandom",
        "clock_gettime",
        "gettimeofday",
        "time",
        "rt_sigprocmask",
        "restart_syscall",
        "rseq",
        "set_robust_list",
    }
)

# Syscalls whose latency is mostly waiting (for data, events, time, children): a long one is
# an idle program, not a slow kernel, so they are left out of latency anomalies.
WAITING_SYSCALLS = frozenset(
    {
        "read",
        "readv",
        "recvfrom",
        "recvmsg",
        "recvmmsg",
        "poll",
        "ppoll",
        "select",
        "pselect6",
        "epoll_wait",
        "epoll_pwait",
        "epoll_pwait2",
        "futex",
        "futex_waitv",
        "nanosleep",
        "clock_nanosleep",
        "wait4",
        "waitid",
        "pause",
        "rt_sigsuspend",
        "rt_sigtimedwait",
        "accept",
        "accept4",
        "msgrcv",
        "semop",
        "semtimedop",
        "io_getevents",
        "io_pgetevents",
        "io_uring_enter",
        "mq_timedreceive",
        "sigsuspend",
        "flock",
        "inotify_read",
        "getrandom",
    }
)


@dataclass(frozen=True, slots=True)
class AnomalySettings:
    """How sensitive detection is; larger `deviations` means fewer, surer alarms."""

    deviations: float = 6.0
    rate_factor: float = 5.0
    latency_factor: float = 8.0
    min_rate: float = 50.0
    min_error_rate: float = 10.0
    min_latency_calls: int = 50
    min_latency_ns: float = 1_000_000.0
    warmup_intervals: int = 5
    smoothing: float = 0.2


@dataclass(frozen=True, slots=True)
class Anomaly:
    """One thing that departed from its baseline, when it started."""

    wall_time: float
    kind: str  # "rate", "errors", "latency", "novel"
    syscall: str
    slot: int
    pid: int | None
    comm: str
    value: float
    baseline: float
    severity: str  # "high" for security-relevant syscalls, else "normal"

    def describe(self) -> str:
        """Return a one-line account: what, who, and how far from baseline."""
        who = f" by {self.comm}[{self.pid}]" if self.pid is not None else ""
        if self.kind == "novel":
            return f"first {self.syscall}{who} since baseline"
        unit = "ns p99" if self.kind == "latency" else "/s"
        ratio = self.value / self.baseline if self.baseline > 0 else float("inf")
        times = f"x{ratio:.0f}" if ratio != float("inf") else "from 0"
        return f"{self.kind} {self.syscall}{who}: {self.value:,.0f}{unit} ({times} baseline)"


@dataclass
class _Baseline:
    mean: float = 0.0
    deviation: float = 0.0
    seen: int = 0
    active: bool = False

    def update(self, value: float, smoothing: float) -> None:
        if self.seen == 0:
            self.mean = value
        else:
            self.deviation += smoothing * (abs(value - self.mean) - self.deviation)
            self.mean += smoothing * (value - self.mean)
        self.seen += 1


@dataclass
class _ProcessHistory:
    slots: set[int] = field(default_factory=set)
    intervals: int = 0
    last_seen: int = 0


@dataclass(frozen=True, slots=True)
class Observation:
    """One value of one series in one interval (what the detector is fed)."""

    kind: str
    key: tuple[object, ...]
    value: float
    syscall: str
    slot: int
    pid: int | None
    comm: str
    calls: int = 0


class AnomalyDetector:
    """Keep baselines across intervals and report what departs from them."""

    def __init__(self, settings: AnomalySettings | None = None) -> None:
        self.settings = settings or AnomalySettings()
        self.reset()

    def reset(self) -> None:
        """Forget every baseline: warm-up starts again."""
        self._baselines: dict[tuple[object, ...], _Baseline] = {}
        self._processes: dict[int, _ProcessHistory] = {}
        self.intervals = 0

    @property
    def warming_up(self) -> bool:
        """Return True while no alarm may be raised yet."""
        return self.intervals < self.settings.warmup_intervals

    def _threshold(self, kind: str, baseline: _Baseline) -> float:
        settings = self.settings
        factor = settings.latency_factor if kind == "latency" else settings.rate_factor
        floor = {"errors": settings.min_error_rate, "latency": settings.min_latency_ns}.get(
            kind, settings.min_rate
        )
        spread = max(baseline.deviation, 0.05 * baseline.mean, 1.0)
        return max(baseline.mean * factor, baseline.mean + settings.deviations * spread, floor)

    def _spike(self, observation: Observation, wall_time: float) -> Anomaly | None:
        settings = self.settings
        baseline = self._baselines.setdefault(observation.key, _Baseline())
        ready = baseline.seen >= settings.warmup_intervals and not self.warming_up
        enough = observation.kind != "latency" or observation.calls >= settings.min_latency_calls
        anomalous = (
            ready and enough and observation.value > self._threshold(observation.kind, baseline)
        )
        found = None
        if anomalous and not baseline.active:
            found = Anomaly(
                wall_time=wall_time,
                kind=observation.kind,
                syscall=observation.syscall,
                slot=observation.slot,
                pid=observation.pid,
                comm=observation.comm,
                value=observation.value,
                baseline=baseline.mean,
                severity="high" if observation.syscall in SECURITY_SYSCALLS else "normal",
            )
        if anomalous:
            baseline.active = True
            # A new level is learned slowly, so a lasting change stops alarming in time.
            baseline.update(observation.value, settings.smoothing / 4)
        else:
            if baseline.active and observation.value <= baseline.mean * 2:
                baseline.active = False
            if observation.kind != "latency" or observation.calls:
                baseline.update(observation.value, settings.smoothing)
        return found

    def observe(
        self,
        wall_time: float,
        observations: Iterable[Observation],
        process_syscalls: Mapping[int, tuple[str, Sequence[tuple[Any, ...]]]],
        exited: Container[int] = (),
    ) -> list[Anomaly]:
        """Feed one interval; return the anomalies that started in it (each process's calls
        are tuples that start (slot, name, …): the snapshot's own rows, not copies)."""
        found = [
            anomaly
            for observation in observations
            if (anomaly := self._spike(observation, wall_time)) is not None
        ]
        for pid, (comm, calls) in process_syscalls.items():
            if pid in exited and pid not in self._processes:
                # Born and gone within one interval (most processes under churn): no history
                # to judge it by, but a first-sight call (ptrace, bpf, …) still counts.
                found.extend(
                    _novel(wall_time, call[0], call[1], pid, comm)
                    for call in calls
                    if call[1] in FIRST_SIGHT_SYSCALLS
                )
                continue
            history = self._processes.setdefault(pid, _ProcessHistory())
            formed = history.intervals >= self.settings.warmup_intervals and not self.warming_up
            for call in calls:
                slot, name = call[0], call[1]
                if slot in history.slots:
                    continue
                history.slots.add(slot)
                if name in FIRST_SIGHT_SYSCALLS or (formed and name not in ROUTINE_SYSCALLS):
                    found.append(_novel(wall_time, slot, name, pid, comm))
            history.intervals += 1
            history.last_seen = self.intervals
        self.intervals += 1
        if self.intervals % FORGET_AFTER_INTERVALS == 0:
            self._forget_idle()
        return found

    def active_keys(self) -> set[tuple[object, ...]]:
        """Return the series currently above their baseline."""
        return {key for key, baseline in self._baselines.items() if baseline.active}

    def forget_gone(self, alive: set[int]) -> None:
        """Drop the history of processes that no longer exist (bounded under pid churn)."""
        for pid in [pid for pid in self._processes if pid not in alive]:
            del self._processes[pid]
        for key in [k for k in self._baselines if k[0] == "pid" and k[1] not in alive]:
            del self._baselines[key]

    def _forget_idle(self) -> None:
        """Drop processes unseen for a long while (bounded memory under pid churn)."""
        oldest = self.intervals - FORGET_AFTER_INTERVALS
        for pid in [pid for pid, h in self._processes.items() if h.last_seen < oldest]:
            del self._processes[pid]
        for key in [k for k in self._baselines if k[0] == "pid" and k[1] not in self._processes]:
            del self._baselines[key]


def _novel(wall_time: float, slot: int, name: str, pid: int, comm: str) -> Anomaly:
    """Return the anomaly of a process making a syscall it had not made before."""
    return Anomaly(
        wall_time=wall_time,
        kind="novel",
        syscall=name,
        slot=slot,
        pid=pid,
        comm=comm,
        value=1.0,
        baseline=0.0,
        severity="high" if name in SECURITY_SYSCALLS else "normal",
    )
