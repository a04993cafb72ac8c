"""Loss is always visible: a tiny perf buffer and a full per-process map are counted."""

from __future__ import annotations

import threading

import pytest

from tui.config import Config, Filters
from tui.model.names import SyscallNames
from tui.model.snapshot import build_snapshot

pytestmark = pytest.mark.bpf
NAMES = SyscallNames()


def test_tiny_perf_buffer_overflow_is_counted_within_one_interval(workload_factory) -> None:
    from tui.sources.bcc_source import BccSource

    calls = 300_000  # every one sampled: far more than one perf page holds between polls
    workload = workload_factory(f"--getppid={calls}")
    config = Config(sample_every=1, perf_pages=1, filters=Filters(pids=(workload.pid,)))
    source = BccSource(config, NAMES)
    source.start()
    try:
        before = source.read()
        working = threading.Thread(target=workload.go, args=(120.0,))
        working.start()
        # Within one interval: the kernel reports a loss at its next write after the
        # reader frees space, so poll as the collector does until the calls are made.
        while working.is_alive():
            source.poll(0.05)
        working.join()
        snapshot = build_snapshot(before, source.read(), NAMES)
    finally:
        source.close()
    assert snapshot.totals.loss.lost_samples > 0
    assert snapshot.totals.lost_samples_interval == snapshot.totals.loss.lost_samples
    # Counting is exact whatever the samples lost (not "more than the host made in 1 s").
    assert snapshot.syscall(NAMES.slots_for("getppid")[0]).count == calls


@pytest.mark.parametrize("level", ["full", "counts"])
def test_full_process_map_drops_are_counted_and_totals_stay_exact(
    workload_factory, level: str
) -> None:
    """Each call of a pair with no entry is one drop, also for a pair made again and again
    (its calls are not cached: they would have no entry to go to)."""
    from tui.sources.bcc_source import BccSource

    workloads = [workload_factory("--getppid=500") for _ in range(24)]
    config = Config(
        proc_map_entries=16,
        filters=Filters(pids=tuple(w.pid for w in workloads), syscall_names=("getppid",)),
        level=level,
        **({"sample_every": 0, "capture_rate": 0} if level == "counts" else {}),
    )
    source = BccSource(config, NAMES)
    source.start()
    try:
        before = source.read()
        for workload in workloads:
            workload.go()
        snapshot = build_snapshot(before, source.read(), NAMES)
    finally:
        source.close()
    assert snapshot.syscall(NAMES.slots_for("getppid")[0]).count == 24 * 500
    assert snapshot.totals.loss.proc_map_full == (24 - 16) * 500
    assert sum(p.count for p in snapshot.processes) == 16 * 500
