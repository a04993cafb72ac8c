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


def test_ptrace_is_flagged_at_first_sight_whether_it_started_before_or_after_the_tool() -> None:
    import json
    import subprocess
    import sys
    import time
    import uuid

    from tests.bpf.test_cli_live import SYSCALLTOP
    from tests.conftest import REPO

    name = f"pt{uuid.uuid4().hex[:8]}"
    # PTRACE_PEEKDATA on pid 1, which it does not trace: ESRCH, no side effect, still ptrace.
    script = (
        "import ctypes, time\nlibc = ctypes.CDLL(None)\n"
        f"libc.prctl(15, b'{name}', 0, 0, 0)\n"
        "end = time.monotonic() + 6\n"
        "while time.monotonic() < end:\n    libc.ptrace(2, 1, 0, 0)\n    time.sleep(0.01)\n"
    )
    before = subprocess.Popen([sys.executable, "-c", script])
    time.sleep(0.5)
    tool = subprocess.Popen(
        [*SYSCALLTOP, "--json", "-i", "0.4", "-n", "6", "--comm", name],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert tool.stdout is not None
    first = tool.stdout.readline()
    after = subprocess.Popen([sys.executable, "-c", script])
    rest, _ = tool.communicate(timeout=60)
    for process in (before, after):
        process.wait(30)
    flagged = {
        (a["pid"], a["syscall"], a["kind"], a["severity"])
        for line in map(json.loads, (first + rest).splitlines())
        for a in line["anomalies"]
    }
    assert (before.pid, "ptrace", "novel", "high") in flagged  # in warm-up, no baseline
    assert (after.pid, "ptrace", "novel", "high") in flagged
