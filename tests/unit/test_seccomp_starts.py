"""A seccomp profile says whether its target was watched from its start."""

from __future__ import annotations

import subprocess

from tui.export.seccomp import ProcessStarts
from tui.model.names import SyscallNames
from tui.model.readings import CallCounters, LossCounters, ProcessCallCounters, RawReading

NAMES = SyscallNames("x86_64")
EXECVE, READ = 59, 0


def reading(*pairs: tuple[int, int]) -> RawReading:
    one = CallCounters(1, 0, 0, 0, (0,) * 32)
    return RawReading(
        monotonic_ns=0,
        wall_time=0.0,
        syscalls={},
        errnos={},
        processes={
            (tgid, slot): ProcessCallCounters(tgid, slot, 0, "x", one) for tgid, slot in pairs
        },
        loss=LossCounters(),
    )


def test_a_process_that_started_before_is_not_watched_from_its_start_until_it_execs() -> None:
    starts = ProcessStarts(NAMES)
    starts.observe(reading((1, READ)))  # init started long before this test
    assert not starts.from_start()
    starts.observe(reading((1, EXECVE)))  # a new program from here on: its start-up is watched
    assert starts.from_start([1])


def test_one_started_after_is_watched_from_its_start_even_once_gone() -> None:
    child = subprocess.Popen(["sleep", "60"])
    try:
        starts = ProcessStarts(NAMES)
        starts.observe(reading((child.pid, READ)))
    finally:
        child.kill()
        child.wait()
    starts.observe(reading((child.pid, READ)))  # gone now: judged when first seen
    assert starts.from_start() and starts.from_start([child.pid])
    assert not starts.from_start([child.pid, 1])  # a pid never seen was not watched
    assert not ProcessStarts(NAMES).from_start()  # nothing seen: nothing watched from its start
