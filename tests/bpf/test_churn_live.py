"""Process churn: dead processes' entries are reclaimed and memory stays bounded."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

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
        for _ in range(3):  # dead processes are freed one read after their last counts
            time.sleep(0.2)
            reading = source.read()
            snapshot = stream.push(reading)
    finally:
        source.close()
    tgids = {tgid for tgid, _ in reading.processes}
    dead = [tgid for tgid in tgids if not os.path.exists(f"/proc/{tgid}")]
    assert dead == []
    assert len(stream.detector._processes) <= len(tgids)
    assert reading.loss.proc_map_full == 0  # never full: reclaimed as they went
    execve = NAMES.slots_for("execve")[0]
    assert reading.syscalls[execve].count >= SPAWNS  # every exec counted, none lost
    assert snapshot is not None and reading.loss.proc_map_full == 0
