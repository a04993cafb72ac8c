"""Process churn: dead processes' entries are reclaimed and memory stays bounded."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import replace

import pytest

from tests.bpf.test_engine import entries_in_map
from tui.config import Config
from tui.model.names import SyscallNames
from tui.model.snapshot import SnapshotStream
from tui.procinfo import ProcessInfo

pytestmark = pytest.mark.bpf
NAMES = SyscallNames()
SPAWNS = 3000


def test_short_lived_processes_are_reclaimed(tmp_path) -> None:
    from tui.sources.bcc_source import BccSource

    source = BccSource(Config(), NAMES)
    source.start()
    info = ProcessInfo()
    stream = SnapshotStream(NAMES, info.describe)
    try:
        stream.push(source.read())
        churn = subprocess.Popen(
            ["sh", "-c", f"i=0; while [ $i -lt {SPAWNS} ]; do /bin/true; i=$((i+1)); done"]
        )
        peak_entries = 0
        while churn.poll() is None:
            time.sleep(0.2)
            reading = source.read()
            stream.push(reading)
            peak_entries = max(peak_entries, len(reading.processes))
        for _ in range(3):  # the churn is over: reads find only the living left
            time.sleep(0.2)
            reading = source.read()
            snapshot = stream.push(reading)
        in_map = {tgid for tgid, _ in entries_in_map(source)}
    finally:
        source.close()
    # What the last read found gone is out of the map; of 3,000 processes, few pairs remain.
    assert not in_map & reading.exited
    assert len(in_map) < 100
    tgids = {tgid for tgid, _ in reading.processes}
    assert len(stream.detector._processes) <= len(tgids - reading.exited)
    assert reading.loss.proc_map_full == 0  # never full: reclaimed as they went
    execve = NAMES.slots_for("execve")[0]
    assert reading.syscalls[execve].count >= SPAWNS  # every exec counted, none lost
    assert snapshot is not None and reading.loss.proc_map_full == 0


def run_short_lived(count: int) -> list[int]:
    """Run `count` /bin/true one after another; return their pids (all reaped)."""
    pids = []
    for _ in range(count):
        process = subprocess.Popen(["/bin/true"])
        process.wait()
        pids.append(process.pid)
    return pids


def test_a_filling_map_is_relieved_between_reads() -> None:
    """Gone processes leave the map in a poll slice once the exits since the last take would
    fill a quarter of the room the last read left; short of that, the read takes them, and a
    slice with no exits reads no map at all."""
    from tui.sources.bcc_source import BccSource

    source = BccSource(Config(proc_map_entries=2048), NAMES)
    source.start()
    exit_group = NAMES.slots_for("exit_group")[0]
    assert source._proc_reader is not None
    map_reads = []
    read_map = source._proc_reader.read

    def counted_read() -> tuple[bytes, bytes, int]:
        map_reads.append(1)
        return read_map()

    source._proc_reader.read = counted_read  # type: ignore[method-assign]

    def in_map() -> set[int]:
        return {tgid for tgid, _ in entries_in_map(source)}

    taken_early = []
    try:
        source.read()
        source.poll(0.01)
        map_reads.clear()
        source.poll(0.01)
        assert map_reads == []  # nothing exited: nothing to take, no map read
        # Quiet (4 exits, about 80 pairs of the room of ~2,000): gone processes wait for the read.
        quiet = run_short_lived(4)
        source.poll(0.01)
        assert map_reads == [] and set(quiet) <= in_map()
        assert set(quiet) <= source.read().exited and not in_map() & set(quiet)
        # Filling: 40 exits, about 840 pairs, over a quarter of the room.
        churned = run_short_lived(40)
        source.poll(0.01)
        assert not in_map() & set(churned)  # out of the map before any read
        taken_early.append((churned, source.read()))
        assert 15 < source._pairs_per_exit < 30  # about 21 a /bin/true, as measured
    finally:
        source.close()
    for pids, reading in taken_early:
        assert set(pids) <= reading.exited
        for pid in pids:
            assert reading.processes[(pid, exit_group)].counters.count == 1
        assert reading.loss.proc_map_full == 0


def assert_taken_in_a_poll(config: Config, ends: Callable[[int], list[int]], count: int) -> None:
    """Processes ended by `ends(count)` leave the map in the next poll slice, before any read,
    and the read after shows them exited with nothing dropped."""
    from tui.sources.bcc_source import BccSource

    source = BccSource(config, NAMES)
    source.start()
    try:
        source.read()
        source.poll(0.01)
        gone = ends(count)
        source.poll(0.01)
        assert not {tgid for tgid, _ in entries_in_map(source)} & set(gone)
        reading = source.read()
    finally:
        source.close()
    assert set(gone) <= reading.exited
    assert reading.loss.proc_map_full == 0


def test_a_small_map_is_relieved_after_fewer_exits() -> None:
    """The mark is a share of the room: in a map of 256, 4 exits are enough."""
    assert_taken_in_a_poll(Config(proc_map_entries=256), run_short_lived, 4)


def test_pairs_held_between_reads_are_bounded_by_the_map_size() -> None:
    """Past one map's worth of taken pairs, polls stop taking: drops are counted instead."""
    from tui.sources.bcc_source import BccSource

    source = BccSource(Config(proc_map_entries=512), NAMES)
    source.start()
    try:
        source.read()
        source.poll(0.01)
        first = run_short_lived(40)  # about 840 pairs: the map overflows
        source.poll(0.01)
        assert len(source._departed) <= 512
        second = run_short_lived(40)
        source.poll(0.01)
        assert len(source._departed) == 512  # taken up to one map's worth, no more
        assert {tgid for tgid, _ in entries_in_map(source)} & set(second)
        reading = source.read()
    finally:
        source.close()
    assert reading.loss.proc_map_full > 0  # what did not fit is counted
    shown = {tgid for tgid, _ in reading.processes} & (set(first) | set(second))
    assert shown and shown <= reading.exited  # a process whose pairs all dropped is not shown


def run_killed(count: int) -> list[int]:
    """Start `count` sleeps and kill each (SIGKILL: no exit_group); return their pids."""
    pids = []
    for _ in range(count):
        process = subprocess.Popen(["sleep", "30"])
        time.sleep(0.05)  # in its sleep: its start-up calls are in the map
        process.kill()  # the process this test started, by its own handle
        process.wait()
        pids.append(process.pid)
    return pids


@pytest.mark.parametrize(
    ("level", "ends"),
    [("counts", run_short_lived), ("full", run_killed)],
    ids=["counts tier, exit_group unseen", "full tier, killed by a signal"],
)
def test_exits_that_make_no_exit_group_call_count_toward_an_early_take(level, ends) -> None:
    """The counts tier never sees exit_group (it has no sys_enter, and exit_group no exit),
    and a process killed by a signal never calls it: their entries leave a filling map
    between reads all the same (6 processes, about 120 pairs: over a quarter of 256)."""
    config = Config(proc_map_entries=256, level=level)
    if level == "counts":
        config = replace(config, sample_every=0, capture_rate=0)
    assert_taken_in_a_poll(config, ends, 6)
