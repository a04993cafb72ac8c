"""Process churn: dead processes' entries are reclaimed and memory stays bounded."""

from __future__ import annotations

import subprocess
import time

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


def test_busy_map_is_relieved_between_reads() -> None:
    """Gone processes leave the map in each poll slice once processes churn or it is busy."""
    from tui.sources.bcc_source import EARLY_TAKE_EXITS, BccSource

    source = BccSource(Config(proc_map_entries=2048), NAMES)  # busy from 256 pairs
    source.start()
    exit_group = NAMES.slots_for("exit_group")[0]

    def in_map() -> set[int]:
        return {tgid for tgid, _ in entries_in_map(source)}

    taken_early = []
    try:
        source.read()
        source.poll(0.01)
        # Quiet (4 exits, about 100 pairs): gone processes wait for the read.
        quiet = run_short_lived(4)
        source.poll(0.01)
        assert set(quiet) <= in_map()
        assert set(quiet) <= source.read().exited and not in_map() & set(quiet)
        assert not source._proc_map_busy
        # Churn: more exits in one poll slice than EARLY_TAKE_EXITS.
        churned = run_short_lived(EARLY_TAKE_EXITS + 8)
        source.poll(0.01)
        assert not in_map() & set(churned)  # out of the map before any read
        taken_early.append((churned, source.read()))
        # Busy: 20 exits (under the churn mark) leave about 420 pairs for the next read...
        filling = run_short_lived(20)
        source.poll(0.01)
        assert set(filling) <= in_map()
        source.read()
        assert source._proc_map_busy
        # ...so gone processes leave in the next slice, however few they are.
        after_busy = run_short_lived(4)
        source.poll(0.01)
        assert not in_map() & set(after_busy)
        taken_early.append((after_busy, source.read()))
    finally:
        source.close()
    for pids, reading in taken_early:
        assert set(pids) <= reading.exited
        for pid in pids:
            assert reading.processes[(pid, exit_group)].counters.count == 1
        assert reading.loss.proc_map_full == 0


def test_pairs_held_between_reads_are_bounded_by_the_map_size() -> None:
    """Past one map's worth of taken pairs, polls stop taking: drops are counted instead."""
    from tui.sources.bcc_source import EARLY_TAKE_EXITS, BccSource

    source = BccSource(Config(proc_map_entries=512), NAMES)
    source.start()
    try:
        source.read()
        source.poll(0.01)
        first = run_short_lived(EARLY_TAKE_EXITS + 8)  # about 840 pairs: the map overflows
        source.poll(0.01)
        assert len(source._departed) <= 512
        second = run_short_lived(EARLY_TAKE_EXITS + 8)
        source.poll(0.01)
        assert len(source._departed) == 512  # taken up to one map's worth, no more
        assert {tgid for tgid, _ in entries_in_map(source)} & set(second)
        reading = source.read()
    finally:
        source.close()
    assert reading.loss.proc_map_full > 0  # what did not fit is counted
    shown = {tgid for tgid, _ in reading.processes} & (set(first) | set(second))
    assert shown and shown <= reading.exited  # a process whose pairs all dropped is not shown
