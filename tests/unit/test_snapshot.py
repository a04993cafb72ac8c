"""The pure model: successive readings become rates, shares, errnos, latency and processes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tui.model.names import COMPAT_SLOT_BASE, SyscallNames
from tui.model.readings import (
    CallCounters,
    LossCounters,
    ProcessCallCounters,
    RawReading,
    SampleEvent,
)
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


def entry(pid: int, count: int) -> dict[tuple[int, int], ProcessCallCounters]:
    return {(pid, 39): ProcessCallCounters(pid, 39, 0, "x", counters(count))}


def test_trends_of_exited_processes_are_forgotten() -> None:
    stream = SnapshotStream(NAMES)
    stream.push(reading(0.0, {39: counters(1)}, processes={**entry(7, 1), **entry(8, 1)}))
    first = stream.push(reading(1.0, {39: counters(4)}, processes={**entry(7, 2), **entry(8, 3)}))
    assert first is not None and first.process_trends == {7: (1.0,), 8: (2.0,)}
    # Pid 8 exited (its entries are gone from the map); pid 7 idles, then is busy again.
    stream.push(reading(2.0, {39: counters(4)}, processes=entry(7, 2)))
    assert set(stream._process_history._series) == {7}
    third = stream.push(reading(3.0, {39: counters(9)}, processes=entry(7, 7)))
    assert third is not None and third.process_trends == {7: (1.0, 0.0, 5.0)}


def test_process_gone_at_its_first_read_is_shown_but_leaves_no_state() -> None:
    stream = SnapshotStream(NAMES)
    stream.push(reading(0.0, {39: counters(1)}, processes=entry(7, 1)))
    last = replace(
        reading(1.0, {39: counters(9)}, processes={**entry(7, 3), **entry(8, 5)}),
        exited=frozenset({8}),
    )
    snapshot = stream.push(last)
    assert snapshot is not None and snapshot.exited_pids == {8}
    assert [(row.pid, row.count) for row in snapshot.processes] == [(8, 5), (7, 2)]
    assert snapshot.process_trends == {7: (2.0,), 8: (5.0,)}
    # Nothing is kept for pid 8: no baselines, no history, no trend series.
    assert set(stream.detector._processes) == {7}
    assert {key[1] for key in stream.detector._baselines if key[0] == "pid"} == {7}
    assert set(stream._process_history._series) == {7}


def test_pid_reused_after_an_exit_counts_from_zero() -> None:
    gone = replace(reading(0.0, {39: counters(5)}, processes=entry(7, 5)), exited=frozenset({7}))
    # A new process got pid 7 and has already made more calls than the old one had.
    snapshot = build_snapshot(gone, reading(1.0, {39: counters(13)}, processes=entry(7, 8)), NAMES)
    row = snapshot.process(7)
    assert row is not None and row.count == 8 and not row.exited


def test_new_entry_shares_its_histogram() -> None:
    now = counters(3)
    assert call_delta(now, None).hist is now.latency_hist
    assert call_delta(now, counters(1)).hist == tuple(2 if i == 10 else 0 for i in range(32))


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


def call_event(pid: int, slot: int, ret: int, at_ns: int) -> SampleEvent:
    return SampleEvent(at_ns, 1000, 0, ret, (1, 0, 0, 0, 0, 0), pid, pid, 0, 0, slot, True, "x")


def test_a_quiet_process_keeps_its_recent_calls_while_busy_ones_fill_the_global_list() -> None:
    """The process drill-down shows its own last calls (a ptrace = -1 EPERM five times a
    second), not only what is left of the system-wide list after busier processes."""
    stream = SnapshotStream(NAMES)
    procs = {**entry(7, 1), **entry(8, 1)}
    stream.push(reading(0, {39: counters(1)}, processes=procs))
    ptrace = replace(
        reading(1, {39: counters(2)}, processes=procs), samples=(call_event(7, 101, -1, 1),)
    )
    first = stream.push(ptrace)
    assert first is not None and [c.pid for c in first.calls_of(7)] == [7]
    busy = tuple(call_event(8, 39, 8, 2 + i) for i in range(200))
    second = stream.push(replace(reading(2, {39: counters(3)}, processes=procs), samples=busy))
    assert second is not None
    assert all(call.pid == 8 for call in second.samples)  # the global list moved on
    assert [(c.name, c.ret) for c in second.calls_of(7)] == [("ptrace", -1)]
    assert len(second.calls_of(8)) == 8  # bounded per process
    gone = replace(reading(3, {39: counters(3)}, processes=procs), exited=frozenset({7}))
    third = stream.push(gone)
    assert third is not None and third.calls_of(7) == ()


def test_calls_nothing_shows_are_not_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under churn most captured calls are the first calls of processes gone by the read:
    only failed, slow, still-running and the newest calls are decoded, and each of those
    reaches its target list, slowest list or process."""
    import tui.model.snapshot as snapshot_module
    from tui.model.readings import REASON_FAILED, REASON_NEW, REASON_SLOW

    decoded: list[str] = []
    real_decode = snapshot_module.decode_call

    def counting_decode(name, *args):  # type: ignore[no-untyped-def]
        decoded.append(name)
        return real_decode(name, *args)

    monkeypatch.setattr(snapshot_module, "decode_call", counting_decode)
    gone = set(range(1000, 1300))
    first_calls = [replace(call_event(pid, 39, pid, pid), reasons=REASON_NEW) for pid in gone]
    failed = replace(  # open("/etc/ld.so.preload") = -ENOENT, as every dynamic binary does
        call_event(1001, 2, -2, 5000),
        reasons=REASON_FAILED,
        strings=(b"/etc/ld.so.preload",),
        truncated=(False,),
    )
    slow = replace(call_event(1002, 0, 0, 5001), duration_ns=9_000_000, reasons=REASON_SLOW)
    running = replace(call_event(7, 39, 7, 5002), reasons=REASON_NEW)
    events = (failed, slow, running, *first_calls)  # the newest 64 are first calls
    stream = SnapshotStream(NAMES)
    stream.push(reading(0, {}))
    now = replace(
        reading(1, {39: counters(301)}), samples=events, exited=frozenset(gone | {1001, 1002})
    )
    snapshot = stream.push(now)
    assert snapshot is not None
    assert len(decoded) == 3 + 64
    assert [(t.syscall, t.errno, t.target, t.pid) for t in snapshot.targets] == [
        ("open", "ENOENT", "/etc/ld.so.preload", 1001)
    ]
    assert [row.duration_ns for row in snapshot.slowest] == [9_000_000]
    assert [c.name for c in snapshot.calls_of(7)] == ["getpid"]
    assert [c.pid for c in snapshot.samples] == [c.tgid for c in first_calls[-64:]]
    assert all(c.call for c in snapshot.samples)


def test_a_process_that_moved_cgroups_counts_in_both_groups() -> None:
    """A process moved mid-interval (into a container) has entries in two cgroups: each
    group counts the calls made in it, and the process is shown in the one it used most."""
    paths = {41: "/system.slice/cron.service", 42: "/system.slice/docker-abc123.scope"}

    def entry(slot: int, count: int, cgroup: int) -> ProcessCallCounters:
        return ProcessCallCounters(9, slot, 0, "moved", counters(count), cgroup)

    before = reading(0, {})
    after = replace(
        reading(
            1,
            {0: counters(3), 1: counters(5), 39: counters(2)},
            processes={(9, 0): entry(0, 3, 41), (9, 1): entry(1, 5, 42), (9, 39): entry(39, 2, 42)},
        ),
        cgroup_paths=paths,
    )
    snapshot = build_snapshot(before, after, NAMES)
    (process,) = snapshot.processes
    assert (process.count, process.cgroup_id) == (10, 42)
    groups = {row.cgroup_ids: (row.count, row.pids, row.top_syscall) for row in snapshot.groups}
    assert groups == {(41,): (3, (9,), "read"), (42,): (7, (9,), "write")}


def test_a_thread_pool_waiting_is_described_once_per_process() -> None:
    """2,000 threads of one server blocked in futex: the in-flight list names the process
    once, not once per thread (a /proc look-up each, every interval)."""
    from tui.model.readings import InflightCall
    from tui.model.snapshot import kernel_identity

    described: list[int] = []

    def counting_describe(pid: int, uid: int, comm: str, gone: bool = False):  # type: ignore[no-untyped-def]
        described.append(pid)
        return kernel_identity(pid, uid, comm, gone)

    futex = NAMES.slots_for("futex")[0]
    waiting = tuple(InflightCall(5000 + i, 4242, futex, 10**9) for i in range(2000))
    waiting += (InflightCall(77, 77, NAMES.slots_for("read")[0], 2 * 10**9),)
    now = replace(reading(5, {}), inflight=waiting)
    snapshot = build_snapshot(reading(4, {}), now, NAMES, counting_describe)
    assert sorted(described) == [77, 4242]
    assert len(snapshot.inflight) == 2001
    assert {row.pid for row in snapshot.inflight if row.name == "futex"} == {4242}


def test_processes_blocked_since_the_last_read_are_not_looked_up_again() -> None:
    """On a server most processes sit blocked in one call: each is looked up once, not at
    every interval. One that made calls takes the name its row was given just now (after a
    rename, the new one); a pid that exited and came back as a new process is looked up."""
    from tui.model.readings import InflightCall
    from tui.model.snapshot import ProcessIdentity

    described: list[int] = []
    names_now = {100: "idle-a", 200: "idle-b", 300: "worker"}

    def counting_describe(pid: int, uid: int, comm: str, gone: bool = False) -> ProcessIdentity:
        described.append(pid)
        return ProcessIdentity(comm=names_now[pid], user="root")

    poll = NAMES.slots_for("poll")[0]
    read = NAMES.slots_for("read")[0]
    blocked = (
        InflightCall(100, 100, poll, 10**9),
        InflightCall(200, 200, poll, 10**9),
        InflightCall(301, 300, read, 10**9),
    )

    def worker_calls(count: int) -> dict[tuple[int, int], ProcessCallCounters]:
        return {(300, read): ProcessCallCounters(300, read, 0, "worker", counters(count))}

    stream = SnapshotStream(NAMES, counting_describe)
    stream.push(replace(reading(0, {}, processes=worker_calls(1)), inflight=blocked))
    first = stream.push(replace(reading(1, {}, processes=worker_calls(5)), inflight=blocked))
    assert first is not None
    assert sorted(described) == [100, 200, 300]  # 300 once, for its row
    assert [row.comm for row in first.inflight] == ["idle-a", "idle-b", "worker"]
    described.clear()
    names_now[300] = "renamed"
    second = stream.push(replace(reading(2, {}, processes=worker_calls(9)), inflight=blocked))
    assert second is not None
    assert described == [300]  # the idle ones are not looked up again
    assert [row.comm for row in second.inflight] == ["idle-a", "idle-b", "renamed"]
    # pid 200 exited and a new process has it, blocked too: its calls give it a row.
    described.clear()
    names_now[200] = "reused-pid"
    newborn = {(200, read): ProcessCallCounters(200, read, 0, "reused-pid", counters(3))}
    third = stream.push(
        replace(reading(3, {}, processes=worker_calls(9) | newborn), inflight=blocked)
    )
    assert third is not None
    assert described == [200]
    assert [row.comm for row in third.inflight] == ["idle-a", "reused-pid", "renamed"]
