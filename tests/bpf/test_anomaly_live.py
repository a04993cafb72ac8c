"""Anomalies on the live kernel: a 100x jump and a novel syscall are flagged, neighbours not."""

from __future__ import annotations

import threading
import time

import pytest

from tui.config import Config, Filters
from tui.model.names import SyscallNames
from tui.model.snapshot import SnapshotStream

pytestmark = pytest.mark.bpf
NAMES = SyscallNames()
INTERVAL_S = 0.25


def test_rate_jump_and_novel_syscall_are_flagged_and_steady_neighbour_is_not(
    workload_factory,
) -> None:
    from tui.sources.bcc_source import BccSource

    jumper = workload_factory("--phases=100:2.5,10000:1.5", "--novel=3")
    steady = workload_factory("--phases=1000:4.5")
    source = BccSource(Config(filters=Filters(pids=(jumper.pid, steady.pid))), NAMES)
    source.start()
    try:
        stream = SnapshotStream(NAMES)
        stream.push(source.read())
        goes = [threading.Thread(target=w.go, kwargs={"timeout_s": 30}) for w in (jumper, steady)]
        for thread in goes:
            thread.start()
        history = []
        deadline = time.monotonic() + 5.5
        while time.monotonic() < deadline:
            time.sleep(INTERVAL_S)
            snapshot = stream.push(source.read())
            assert snapshot is not None
            process = snapshot.process(jumper.pid)
            getppid = {c.name: c.rate for c in process.syscalls}.get("getppid", 0) if process else 0
            history.append((getppid, list(snapshot.anomalies)))
        for thread in goes:
            thread.join()
    finally:
        source.close()

    jump_at = next(i for i, (rate, _) in enumerate(history) if rate > 2000)
    flagged_at = [
        i
        for i, (_, found) in enumerate(history)
        for a in found
        if a.kind == "rate" and a.pid == jumper.pid and a.syscall == "getppid"
    ]
    assert flagged_at, history
    assert flagged_at[0] - jump_at <= 1  # within two intervals of the jump
    novel = {(a.pid, a.syscall) for _, found in history for a in found if a.kind == "novel"}
    assert (jumper.pid, "getuid") in novel
    # ("write" is novel too, truly: both print "done" only at the very end.)
    assert novel <= {(jumper.pid, "getuid"), (jumper.pid, "write"), (steady.pid, "write")}
    spikes = [a for _, found in history for a in found if a.kind != "novel"]
    assert not [a for a in spikes if a.pid == steady.pid]
