"""Record a live run, replay it: the JSON is the same line for line; kill -9 loses nothing."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.bpf


def replay_json(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", "--json", "--replay", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )


def test_replayed_json_equals_live_json(tmp_path: Path, workload_factory) -> None:
    path = tmp_path / "live.jsonl"
    workload = workload_factory("--phases=300:2.5", "--enoent=5")
    workload.process.stdin.write("go\n")
    workload.process.stdin.flush()
    live = subprocess.run(
        [sys.executable, "-m", "tui", "--json", "-i", "0.5", "-n", "6", "--record", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert live.returncode == 0, live.stderr
    replay = replay_json(path)
    assert replay.returncode == 0, replay.stderr
    assert replay.stdout.splitlines() == live.stdout.splitlines()
    lines = [json.loads(line) for line in replay.stdout.splitlines()]
    assert len(lines) == 6
    assert any(p["comm"] == workload.name for line in lines for p in line["processes"])


def test_killed_recording_replays_up_to_its_last_interval(tmp_path: Path) -> None:
    path = tmp_path / "killed.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "tui", "--json", "-i", "0.3", "--record", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert process.stdout is not None
    printed = [process.stdout.readline() for _ in range(4)]
    time.sleep(0.1)
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    replay = replay_json(path)
    assert replay.returncode == 0, replay.stderr
    replayed = replay.stdout.splitlines()
    assert len(replayed) >= 4
    assert replayed[:4] == [line.rstrip("\n") for line in printed]
