"""The pure model: successive readings become rates, shares, errnos, latency and processes."""

from __future__ import annotations

import pytest

from tui.model.names import COMPAT_SLOT_BASE, SyscallNames
from tui.model.readings import CallCounters, LossCounters, ProcessCallCounters, RawReading
from tui.model.snapshot import SnapshotStream, build_snapshot, call_delta
from tui.sources.fake_source import FakeCall, FakeProcess, FakeSource

NAMES = SyscallNames("x86_64")


def counters(count: int, errors: int = 0, bucket: int = 10, max_ns: int = 0) -> CallCounters:
    hist = [0] * 32
    hist[bucket] = count
    return CallCounters(count, errors, count * (1 << bucket), max_ns or (1 << bucket), tuple(hist))


def reading(
    at_s: float, syscalls: dict[int, CallCounters], errnos=None, processes=None, lost: int = 0
) -> RawReading:
    return RawReading(
        monotonic_ns=int(at_s * 1e9),
        wall_time=1000.0 + at_s,
        syscalls=syscalls,
        errnos=errnos or {},
        processes=processes or {},
        loss=LossCounters(lost_samples=lost),
    )


def test_interval_counts_rates_and_shares() -> None:
    first = reading(0.0, {110: counters(100), 257: counters(10, 5)}, {(257, 2): 5})
    second = reading(
        2.0, {110: counters(400), 257: counters(110, 45)}, {(257, 2): 40, (257, 13): 5}
    )
    snapshot = build_snapshot(first, second, NAMES)
    assert snapshot.interval_s == 2.0
    getppid, openat = snapshot.syscalls
    assert (getppid.name, getppid.count, getppid.total, getppid.rate) == (
        "getppid",
        300,
        400,
        150.0,
    )
    assert (openat.name, openat.count, openat.errors, openat.errors_total) == (
        "openat",
        100,
        40,
        45,
    )
    assert openat.errnos == (("ENOENT", 35), ("EACCES", 5))
    assert openat.errnos_total == (("ENOENT", 40), ("EACCES", 5))
    assert openat.error_pct == 40.0
    assert openat.error_rate == 20.0
    assert getppid.share == 75.0 and openat.share == 25.0
    assert snapshot.totals.count == 400
    assert snapshot.totals.rate == 200.0


def test_rates_come_from_reading_timestamps_not_the_clock() -> None:
    first = reading(10.0, {110: counters(0)})
    second = reading(10.5, {110: counters(50)})
    assert build_snapshot(first, second, NAMES).syscalls[0].rate == 100.0


def test_counter_that_went_down_is_a_new_process() -> None:
    before = counters(1000)
    after = counters(7)
    delta = call_delta(after, before)
    assert (delta.count, delta.total) == (7, 7)


def test_interval_latency_uses_only_this_intervals_calls() -> None:
    first = reading(0, {35: counters(10, bucket=10)})
    hist = [0] * 32
    hist[10], hist[21] = 10, 5
    second = reading(
        1, {35: CallCounters(15, 0, 10 * 1024 + 5 * 2_200_000, 2_300_000, tuple(hist))}
    )
    row = build_snapshot(first, second, NAMES).syscalls[0]
    assert row.count == 5
    assert row.latency.avg_ns == 2_200_000
    assert row.latency.p50_ns == 2_300_000  # bucket bound 4.19 ms capped at the true max
    assert row.latency.max_ns == 2_300_000


def test_process_rows_group_by_pid_and_pick_top_syscall() -> None:
    def entry(pid: int, slot: int, count: int, comm: str) -> ProcessCallCounters:
        return ProcessCallCounters(pid, slot, 0, comm, counters(count))

    first = reading(0, {}, processes={(7, 110): entry(7, 110, 0, "a")})
    second = reading(
        1,
        {110: counters(30), 0: counters(12)},
        processes={
            (7, 110): entry(7, 110, 20, "renamed"),
            (7, 0): entry(7, 0, 2, "renamed"),
            (8, 0): entry(8, 0, 10, "other"),
        },
    )
    snapshot = build_snapshot(first, second, NAMES)
    assert [row.pid for row in snapshot.processes] == [7, 8]
    busiest = snapshot.processes[0]
    assert busiest.count == 22
    assert busiest.comm == "renamed"
    assert busiest.top_syscall == "getppid"
    assert [(c.name, c.count) for c in busiest.syscalls] == [("getppid", 20), ("read", 2)]
    callers = snapshot.callers(0)
    assert [(p.pid, c.count) for p, c in callers] == [(8, 10), (7, 2)]


def test_stream_skips_the_baseline_and_keeps_recent_samples() -> None:
    source = FakeSource()
    stream = SnapshotStream(NAMES)
    assert stream.push(source.read()) is None
    first = stream.push(source.read())
    second = stream.push(source.read())
    assert first is not None and second is not None
    assert len(second.samples) > len(first.samples)
    assert second.interval_s == 1.0


def test_fake_source_is_deterministic() -> None:
    def run() -> list[tuple[str, int]]:
        stream = SnapshotStream(NAMES)
        source = FakeSource()
        snapshot = None
        for _ in range(5):
            snapshot = stream.push(source.read()) or snapshot
        assert snapshot is not None
        return [(row.label, row.count) for row in snapshot.syscalls]

    assert run() == run()


def test_compat_rows_are_marked() -> None:
    source = FakeSource(scenario=(FakeProcess(1, "x", 0, (FakeCall(COMPAT_SLOT_BASE + 64, 5),)),))
    stream = SnapshotStream(NAMES)
    stream.push(source.read())
    snapshot = stream.push(source.read())
    assert snapshot is not None
    assert snapshot.syscalls[0].label == "getppid (i386)"
    assert snapshot.syscalls[0].compat


@pytest.mark.parametrize("lost", [0, 3])
def test_lost_samples_per_interval(lost: int) -> None:
    first = reading(0, {}, lost=10)
    second = reading(1, {}, lost=10 + lost)
    assert build_snapshot(first, second, NAMES).totals.lost_samples_interval == lost
