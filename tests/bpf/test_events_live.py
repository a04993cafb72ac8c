"""--events: every call of a process as Tracee-style sys_enter/sys_exit pairs, in order."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO, wait_attached

pytestmark = pytest.mark.bpf

TRACEE_FIELDS = {
    "timestamp",
    "processorId",
    "processId",
    "threadId",
    "parentProcessId",
    "userId",
    "cgroupId",
    "processName",
    "eventId",
    "eventName",
    "argsNum",
    "args",
    "returnValue",
    "syscall",
    "contextFlags",
}


def test_events_emit_a_known_sequence_as_pairs(workload_factory) -> None:
    workload = workload_factory("--getppid=3", "--enoent=2", "--sleeps=1")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tui",
            "--events",
            "--sample",
            "1",
            "-p",
            str(workload.pid),
            "-i",
            "0.3",
            "-d",
            "4",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    wait_attached(process.pid)
    workload.go()
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    events = [json.loads(line) for line in stdout.splitlines()]
    assert events, stderr
    for event in events:
        assert set(event) >= TRACEE_FIELDS
        assert event["processId"] == workload.pid
        assert event["processName"] == workload.name
        assert event["parentProcessId"] == os.getpid()
        assert event["args"][0]["name"] == "syscall" and event["args"][0]["type"] == "int32"
        assert event["contextFlags"]["isCompat"] is False
    # Pairs: each sys_enter is followed by the sys_exit of the same call.
    assert [e["eventName"] for e in events] == ["sys_enter", "sys_exit"] * (len(events) // 2)
    assert [e["eventId"] for e in events[:2]] == ["1000", "1001"]
    exits = [e for e in events if e["eventName"] == "sys_exit"]
    names = [e["syscall"] for e in exits]
    wanted = ["getppid"] * 3 + ["openat"] * 2 + ["clock_nanosleep"]
    start = names.index("getppid")
    assert names[start : start + 6] == wanted
    calls = exits[start : start + 6]
    assert [c["returnValue"] for c in calls] == [os.getpid()] * 3 + [-2, -2] + [0]
    assert all(c["durationNs"] > 0 for c in calls)
    assert calls[-1]["durationNs"] >= 2_000_000  # the 2 ms sleep
    enters = [e for e in events if e["eventName"] == "sys_enter"]
    first_enter = enters[start]
    assert first_enter["timestamp"] == calls[0]["timestamp"] - calls[0]["durationNs"]
    assert abs(calls[0]["timestamp"] / 1e9 - time.time()) < 60  # epoch ns, not boot time
    # Named, typed arguments from the kernel's prototypes, the raw registers kept beside.
    failed_open = calls[3]
    missing = f"/nonexistent-syscalltop-{workload.pid}"
    named = {arg["name"]: arg for arg in failed_open["args"][1:]}
    assert named["filename"]["type"] == "const char*" and named["filename"]["value"] == missing
    assert named["dfd"]["shown"] == "AT_FDCWD" and named["flags"]["shown"].startswith("O_RDONLY")
    assert failed_open["argsNum"] == 1 + len(named) == 5
    assert failed_open["call"].startswith(f'openat(AT_FDCWD, "{missing}", O_RDONLY')
    assert failed_open["call"].endswith("= -2 ENOENT")
    assert "failed" in failed_open["why"] and len(failed_open["syscallArgs"]) == 6
