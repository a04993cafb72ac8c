"""Latency precision on the real kernel: percentiles within 10% of the calls' own durations,
and each interval's own max (not the max since start).

The truth is each call's kernel-side duration, sent for every call (--sample 1): the
workload's own clock also counts its wake-up after the call, which a busy machine stretches.
(`make bench` compares with the workload's clock, on a quiet machine.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.bench.precision import Sleeper, rank
from tui.config import Config, Filters
from tui.model.names import SyscallNames
from tui.model.snapshot import SyscallRow, build_snapshot

pytestmark = pytest.mark.bpf
NAMES = SyscallNames()


@pytest.fixture
def sleeper() -> Iterator[Sleeper]:
    started = Sleeper()
    yield started
    started.close()


def sleep_row(source, before, sleeper: Sleeper, seconds: list[float]):  # type: ignore[no-untyped-def]
    """Run a phase between two reads; return the clock_nanosleep row, each call's kernel-side
    duration (from its event), and the reading."""
    sleeper.phase(seconds)
    after = source.read()
    snapshot = build_snapshot(before, after, NAMES)
    row: SyscallRow = next(r for r in snapshot.syscalls if r.name == "clock_nanosleep")
    durations = [event.duration_ns for event in after.samples if event.slot == row.slot]
    return row, durations, after


def open_source(sleeper: Sleeper):  # type: ignore[no-untyped-def]
    """Start the real program on the sleeper alone, every call sent as an event."""
    from tui.sources.bcc_source import BccSource

    config = Config(filters=Filters(pids=(sleeper.process.pid,)), sample_every=1)
    source = BccSource(config, NAMES)
    source.start()
    return source


def test_percentiles_are_within_ten_percent_of_each_calls_duration(sleeper) -> None:
    source = open_source(sleeper)
    try:
        row, took, _ = sleep_row(source, source.read(), sleeper, [0.0005] * 600 + [0.010] * 300)
    finally:
        source.close()
    assert row.count == len(took) == 900
    ordered = sorted(took)
    latency = row.latency
    for name, fraction in (("p50_ns", 0.50), ("p95_ns", 0.95), ("p99_ns", 0.99)):
        truth = rank(ordered, fraction)
        estimate = getattr(latency, name)
        assert abs(estimate - truth) <= truth / 10, (name, estimate, truth)
    assert latency.max_ns == ordered[-1]


def test_each_interval_has_its_own_max(sleeper) -> None:
    """A 150 ms sleep in the second interval only: the third interval's max is its own 1 ms
    calls' (it used to be the 2.1 ms bound of their log2 bucket, capped by the max since start),
    for the syscall and for the process, whose sleeps one after another are a pair its CPU
    caches (the maximum waits there with the calls)."""
    source = open_source(sleeper)
    try:
        reading = source.read()
        maxima = []
        for seconds in ([0.001] * 5, [0.001, 0.150, 0.001], [0.001] * 5):
            before = reading
            row, took, reading = sleep_row(source, reading, sleeper, seconds)
            assert row.count == len(took) == len(seconds)
            process = build_snapshot(before, reading, NAMES).process(sleeper.process.pid)
            assert process is not None
            mine = next(call for call in process.syscalls if call.slot == row.slot)
            assert (mine.count, sum(mine.hist)) == (len(took), len(took))
            maxima.append((row.latency.max_ns, mine.latency_max_ns, max(took)))
    finally:
        source.close()
    assert [(syscall, process) for syscall, process, _ in maxima] == [
        (truth, truth) for _, _, truth in maxima
    ]
    assert maxima[2][0] < 150_000_000  # the slow call stays in its own interval


def test_the_kernel_files_each_call_in_the_fine_bucket_the_model_computes(sleeper) -> None:
    """bpf/syscalls.bpf.c fine_bucket and tui/model/histogram.py fine_index agree, call by
    call: the interval's fine histogram is exactly the events' durations, bucketed."""
    from collections import Counter

    from tui.model.histogram import fine_index

    source = open_source(sleeper)
    try:
        seconds = [0.000001, 0.00002, 0.0001, 0.0005, 0.002, 0.005] * 20
        before = source.read()
        row, took, after = sleep_row(source, before, sleeper, seconds)
    finally:
        source.close()
    assert row.count == len(took) == len(seconds)
    now = after.syscalls[row.slot].fine_hist
    earlier = before.syscalls[row.slot].fine_hist if row.slot in before.syscalls else ()
    counts = [a - b for a, b in zip(now, earlier or (0,) * len(now), strict=True)]
    fine = Counter({index: count for index, count in enumerate(counts) if count})
    assert fine == Counter(fine_index(duration) for duration in took)


def test_syscalls_beyond_the_histogram_rows_are_named_as_such(workload_factory) -> None:
    """With 16 rows, a workload's start-up alone makes more distinct timed syscalls: each
    one timed has a fine histogram or is named in `unhistogrammed` (the detail says why)."""
    from tui.sources.bcc_source import BccSource

    source = BccSource(Config(hist_rows=16), NAMES)
    source.start()
    try:
        source.read()
        workload = workload_factory("--getppid=10", "--enoent=3", "--sleeps=2")
        workload.go()
        after = source.read()
    finally:
        source.close()
    timed = {slot for slot, c in after.syscalls.items() if c.latency_sum_ns}
    with_rows = {slot for slot, c in after.syscalls.items() if c.fine_hist}
    assert len(with_rows) <= 16 < len(timed)
    assert after.unhistogrammed == timed - with_rows
