"""A deterministic stand-in for the kernel, for UI tests and screenshots only."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from tui.model.histogram import FINE_BUCKETS, fine_index
from tui.model.names import COMPAT_SLOT_BASE, INVALID_SLOT
from tui.model.readings import (
    HIST_BUCKETS,
    REASON_FAILED,
    CallCounters,
    CaptureCounts,
    InflightCall,
    LossCounters,
    ProcessCallCounters,
    RawReading,
    SampleEvent,
)
from tui.model.sanitize import safe_text

FAKE_EPOCH = 1_767_225_600.0  # 2026-01-01T00:00:00Z: screens never show the real clock


@dataclass(frozen=True, slots=True)
class FakeCall:
    """One syscall a fake process makes: calls per second, failures, typical latency."""

    slot: int
    per_second: int
    errors_per_second: int = 0
    errno_value: int = 0
    latency_bucket: int = 10
    starts_at_tick: int = 0
    surge_at_tick: int | None = None
    surge_factor: int = 1
    # Paths its failing calls are about: two failures a tick are captured with them.
    targets: tuple[bytes, ...] = ()


CAPTURED_PER_TICK = 2


@dataclass(frozen=True, slots=True)
class FakeProcess:
    """A fake process: who it is and what it calls."""

    pid: int
    comm: str
    uid: int
    calls: tuple[FakeCall, ...]
    starts_at_tick: int = 0
    exits_at_tick: int | None = None  # its last reading marks it exited, then it is gone
    cgroup: str = "/user.slice/user-1000.slice/session-2.scope"


FAKE_CONTAINER = "4f2c1d9e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e"
FAKE_POD = "8a1b2c3d_4e5f_6a7b_8c9d_0e1f2a3b4c5d"


def fake_cgroup_id(path: str) -> int:
    """Return a stable made-up cgroup id (an inode number) for a path."""
    return 1000 + sum((index + 1) * ord(char) for index, char in enumerate(path)) % 90000


def default_scenario() -> tuple[FakeProcess, ...]:
    """Return a small, busy-looking machine: a web server, a database, a cron job, a 32-bit tool."""
    return (
        FakeProcess(
            4242,
            "nginx",
            33,
            cgroup=f"/system.slice/docker-{FAKE_CONTAINER}.scope",
            calls=(
                FakeCall(232, 1800, latency_bucket=14),  # epoll_wait
                FakeCall(0, 1200, 40, 11, 11, surge_at_tick=8, surge_factor=40),  # read
                FakeCall(1, 1100, latency_bucket=12),  # write
                FakeCall(
                    257,
                    300,
                    120,
                    2,
                    13,
                    targets=(b"/etc/nginx/conf.d/upstream.conf", b"/var/www/html/favicon.ico"),
                ),  # openat, ENOENT
            ),
        ),
        FakeProcess(
            1337,
            "postgres",
            105,
            cgroup="/system.slice/postgresql@15-main.service",
            calls=(
                FakeCall(17, 900, latency_bucket=15),  # pread64
                FakeCall(18, 400, latency_bucket=16),  # pwrite64
                FakeCall(75, 50, latency_bucket=21),  # fdatasync
                FakeCall(202, 600, 200, 110, 18),  # futex, ETIMEDOUT
                FakeCall(101, 2, 2, 1, 12, starts_at_tick=8),  # ptrace, EPERM: new at tick 8
            ),
        ),
        FakeProcess(
            2024,
            "backup.sh",
            0,
            cgroup="/system.slice/backup.service",
            calls=(
                FakeCall(262, 500, 20, 13, 12, targets=(b"/root/.ssh/id_ed25519",)),  # EACCES
                FakeCall(217, 80, latency_bucket=13),  # getdents64
            ),
        ),
        FakeProcess(
            3030,
            "legacy32",
            1000,
            cgroup="/kubepods.slice/kubepods-besteffort.slice/"
            f"kubepods-besteffort-pod{FAKE_POD}.slice/cri-containerd-{FAKE_CONTAINER[::-1]}.scope",
            calls=(
                FakeCall(COMPAT_SLOT_BASE + 64, 40, latency_bucket=9),  # getppid (i386)
            ),
        ),
        FakeProcess(
            5151,
            "[evil]\x1b[31m",
            1000,
            cgroup="/user.slice/user-1000.slice/session-2.scope",
            calls=(
                FakeCall(INVALID_SLOT, 3, 3, 38, 8),  # garbage ids, ENOSYS
                FakeCall(101, 1, 1, 1, 12),  # ptrace, EPERM
            ),
            starts_at_tick=2,
        ),
    )


@dataclass
class FakeSource:
    """Cumulative readings of a scripted machine; each read advances exactly one interval."""

    interval_s: float = 1.0
    scenario: tuple[FakeProcess, ...] = field(default_factory=default_scenario)
    label: str = "fake"
    tick: int = 0
    _lost_samples: int = 0
    _counters: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    # What exited processes had called: global totals and errnos never go down.
    _retired: dict[int, list[int]] = field(default_factory=dict)
    _retired_errnos: dict[tuple[int, int], int] = field(default_factory=dict)
    _captures: dict[int, list[int]] = field(default_factory=dict)

    def start(self) -> None:
        """Nothing to load."""

    def close(self) -> None:
        """Nothing to release."""

    def poll(self, timeout_s: float) -> None:
        """Wait like a real source would (the app's collector paces on it)."""
        time.sleep(max(timeout_s, 0.0))

    def _advance(self) -> None:
        # Rates wobble deterministically so trends and sparklines have something to show.
        wobble = (0, 1, 3, 2, 5, 4, 1, 0)[self.tick % 8]
        for process in self.scenario:
            if self.tick < process.starts_at_tick:
                continue
            if process.exits_at_tick is not None and self.tick > process.exits_at_tick:
                continue
            for call in process.calls:
                if self.tick < call.starts_at_tick:
                    continue
                counters = self._counters.setdefault((process.pid, call.slot), _zeros())
                surging = call.surge_at_tick is not None and self.tick >= call.surge_at_tick
                per_second = call.per_second * (call.surge_factor if surging else 1)
                calls = round(per_second * self.interval_s * (10 + wobble) / 10)
                errors = min(calls, round(call.errors_per_second * self.interval_s))
                duration = (1 << call.latency_bucket) + (1 << call.latency_bucket) // 3
                counters[0] += calls
                counters[1] += errors
                if errors:
                    sent = min(errors, CAPTURED_PER_TICK if call.targets else 0)
                    captured = self._captures.setdefault(call.slot, [0, 0, 0, 0])
                    captured[0] += sent
                    captured[1] += errors - sent
                counters[2] += calls * duration
                counters[3] = max(counters[3], duration + wobble * 1000)
                counters[4 + call.latency_bucket] += calls - calls // 10
                counters[4 + min(call.latency_bucket + 2, HIST_BUCKETS - 1)] += calls // 10
        self._lost_samples += 1 if self.tick % 5 == 4 else 0
        self.tick += 1

    def read(self) -> RawReading:
        """Return the counters after one more interval."""
        self._advance()
        syscalls = {slot: list(values) for slot, values in self._retired.items()}
        errnos = dict(self._retired_errnos)
        processes: dict[tuple[int, int], ProcessCallCounters] = {}
        by_pid = {process.pid: process for process in self.scenario}
        for (pid, slot), counters in self._counters.items():
            _merge(syscalls.setdefault(slot, _zeros()), counters)
            process = by_pid[pid]
            call = next(call for call in process.calls if call.slot == slot)
            if counters[1]:
                errnos[(slot, call.errno_value)] = (
                    errnos.get((slot, call.errno_value), 0) + counters[1]
                )
            processes[(pid, slot)] = ProcessCallCounters(
                tgid=pid,
                slot=slot,
                uid=process.uid,
                comm=safe_text(process.comm),
                counters=_counters(counters),
                cgroup_id=fake_cgroup_id(process.cgroup),
            )
        exited = frozenset(
            process.pid for process in self.scenario if process.exits_at_tick == self.tick - 1
        )
        # Like the kernel map: an exited process's entries are gone after its last reading.
        for key in [key for key in self._counters if key[0] in exited]:
            counters = self._counters.pop(key)
            _merge(self._retired.setdefault(key[1], _zeros()), counters)
            call = next(c for c in by_pid[key[0]].calls if c.slot == key[1])
            retired_key = (key[1], call.errno_value)
            if counters[1]:
                self._retired_errnos[retired_key] = (
                    self._retired_errnos.get(retired_key, 0) + counters[1]
                )
        samples = tuple(self._samples())
        now_ns = int(self.tick * self.interval_s * 1e9)
        inflight = (
            # A postgres backend stuck in fdatasync since tick 3, a backup blocked in read(2)
            # since before collection started (elapsed is a lower bound).
            InflightCall(
                1340,
                1337,
                75,
                int(3 * self.interval_s * 1e9),
                wchan="jbd2_log_wait_commit",
                target="7</var/lib/postgresql/15/main/pg_wal/000000010000000000000042>",
            ),
            InflightCall(
                2025, 2024, 0, 0, lower_bound=True, wchan="anon_pipe_read", target="0<pipe:[48213]>"
            ),
        )
        return RawReading(
            monotonic_ns=int(self.tick * self.interval_s * 1e9),
            wall_time=FAKE_EPOCH + self.tick * self.interval_s,
            syscalls={slot: _syscall_counters(values) for slot, values in syscalls.items()},
            errnos=errnos,
            processes=processes,
            loss=LossCounters(lost_samples=self._lost_samples),
            samples=samples,
            inflight=tuple(call for call in inflight if call.enter_ns <= now_ns),
            exited=exited,
            captures={slot: CaptureCounts(*counts) for slot, counts in self._captures.items()},
            cgroup_paths={fake_cgroup_id(p.cgroup): p.cgroup for p in self.scenario},
        )

    def _samples(self) -> list[SampleEvent]:
        events: list[SampleEvent] = []
        for process in self.scenario:
            if self.tick <= process.starts_at_tick:
                continue
            call = process.calls[self.tick % len(process.calls)]
            failed = call.errors_per_second > 0 and self.tick % 2 == 0
            events.append(
                self._event(
                    process, call, 0, 123, -call.errno_value if failed else 3, (3, 0x7FFD0000, 4096)
                )
            )
            events.extend(self._captured(process))
        return events

    def _event(
        self,
        process: FakeProcess,
        call: FakeCall,
        nth: int,
        extra_ns: int,
        ret: int,
        args: tuple[int, ...],
    ) -> SampleEvent:
        """One call the fake kernel sent: the `nth` of this tick, `extra_ns` over its bucket."""
        return SampleEvent(
            exit_ns=int(self.tick * self.interval_s * 1e9) + process.pid + nth,
            duration_ns=(1 << call.latency_bucket) + extra_ns,
            cgroup_id=1,
            ret=ret,
            args=(*args, 0, 0, 0, 0, 0, 0)[:6],
            tgid=process.pid,
            tid=process.pid,
            uid=process.uid,
            cpu=process.pid % 2,
            slot=call.slot,
            timed=True,
            comm=safe_text(process.comm),
        )

    def _captured(self, process: FakeProcess) -> list[SampleEvent]:
        """Failing calls sent with their arguments, as the kernel's capture budget allows."""
        found = []
        for call in process.calls:
            if not call.targets or self.tick <= max(process.starts_at_tick, call.starts_at_tick):
                continue
            for index in range(CAPTURED_PER_TICK):
                path = call.targets[(self.tick + index) % len(call.targets)]
                at_fdcwd = (-100) & (2**64 - 1)
                event = self._event(
                    process, call, index, 77, -call.errno_value, (at_fdcwd, 0x7FFD1000, 0o2000000)
                )
                found.append(
                    replace(event, reasons=REASON_FAILED, strings=(path,), truncated=(False,))
                )
        return found


def _zeros() -> list[int]:
    return [0, 0, 0, 0] + [0] * HIST_BUCKETS


def _merge(total: list[int], counters: list[int]) -> None:
    """Add one process's counters into a total (the max is a max)."""
    for index, value in enumerate(counters):
        total[index] = max(total[index], value) if index == 3 else total[index] + value


def _syscall_counters(values: list[int]) -> CallCounters:
    """Per syscall, as the kernel keeps them: with a fine histogram, each log2 bucket's
    calls at its middle (so the log2 one folds back exactly)."""
    counters = _counters(values)
    fine = [0] * FINE_BUCKETS
    for bucket, count in enumerate(counters.latency_hist):
        if count:
            fine[fine_index(3 << bucket >> 1)] += count
    return counters._replace(fine_hist=tuple(fine))


def _counters(values: list[int]) -> CallCounters:
    return CallCounters(
        count=values[0],
        errors=values[1],
        latency_sum_ns=values[2],
        latency_max_ns=values[3],
        latency_hist=tuple(values[4:]),
    )
