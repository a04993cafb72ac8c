"""Faults a server meets: a full disk under --record, a flood of scrapes, an exposed
exporter, an oversized perf buffer, a -p target that exits. Each is one clear line, an honest
exit code, and nothing recorded before it lost."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.bpf.test_cli_live import SYSCALLTOP, json_lines, run_cli
from tests.bpf.test_prometheus_live import free_port, wait_for
from tests.conftest import REPO, wait_attached
from tui.sources.recording import load_recording

pytestmark = pytest.mark.bpf


@pytest.fixture
def tiny_disk(tmp_path: Path):
    """A 64 KiB tmpfs with one free page left: a header and a score of empty readings
    (about 170 bytes each) fit."""
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs", str(mount)], check=True
    )
    try:
        filler = mount / "filler"
        with filler.open("wb") as out, contextlib.suppress(OSError):
            out.write(b"x" * (64 * 1024))
        size = filler.stat().st_size
        os.truncate(filler, size - 4096)
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_full_disk_under_json_record_is_one_line_exit_1_and_whole_lines(tiny_disk: Path) -> None:
    record = tiny_disk / "run.jsonl"
    result = run_cli(
        "--json", "--record", str(record), "-i", "0.2", "-n", "60", "--comm", "nobody-xyz"
    )
    errors = result.stderr.strip().splitlines()
    assert result.returncode == 1, result.stderr
    assert errors == [
        f"syscalltop: stopped recording to {record}: No space left on device; going on without it"
    ]
    assert len(json_lines(result.stdout)) == 60  # the counts went on to the end
    data = record.read_bytes()
    assert data.endswith(b"\n")  # the half-written line was cut
    recording = load_recording(record)
    assert recording.damage is None and len(recording.frames) >= 2


def test_full_disk_under_quiet_record_stops_with_exit_1(tiny_disk: Path) -> None:
    record = tiny_disk / "run.jsonl"
    result = run_cli(
        "--quiet", "--record", str(record), "-i", "0.2", "--comm", "nobody-xyz", timeout=60
    )
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == f"syscalltop: stopped recording to {record}: No space left on device"
    )
    assert load_recording(record).damage is None


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_two_hundred_concurrent_scrapes_all_answer_from_one_rendering(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [*SYSCALLTOP, "--quiet", "--prometheus", f"127.0.0.1:{port}", "-i", "0.5"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    try:
        wait_for(
            lambda: (
                b"syscalltop_syscalls_total"
                in urllib.request.urlopen(f"{base}/metrics", timeout=2).read()
            ),
            30,
        )
        before = rss_kb(process.pid)
        answers: list[int] = []
        failures: list[str] = []

        def scrape() -> None:
            try:
                with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:
                    body = response.read()
                    answers.append(response.status if b"syscalltop_syscalls_total" in body else -1)
            except OSError as error:
                failures.append(repr(error))

        for _round in range(3):
            threads = [threading.Thread(target=scrape) for _ in range(200)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
        assert failures == [] and answers == [200] * 600
        time.sleep(1.0)
        grown_mb = (rss_kb(process.pid) - before) / 1024
        assert grown_mb < 40, f"RSS grew {grown_mb:.0f} MB"
        head = urllib.request.urlopen(
            urllib.request.Request(f"{base}/metrics", method="HEAD"), timeout=5
        )
        assert head.status == 200 and head.read() == b""
        assert int(head.headers["Content-Length"]) > 1000
        health = urllib.request.urlopen(f"{base}/healthz", timeout=5)
        assert health.status == 200 and health.read() == b"ok\n"
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{base}/nothing", timeout=5)
        assert missing.value.code == 404
    finally:
        process.terminate()
        process.wait(10)
    assert process.returncode == 143
    assert process.stderr is not None and process.stderr.read() == b""


def test_exporter_on_every_address_warns_once(tmp_path: Path) -> None:
    port = free_port()
    result = run_cli("--quiet", "--prometheus", f"0.0.0.0:{port}", "-n", "1", "-i", "0.2")
    assert result.returncode == 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"syscalltop: warning: --prometheus 0.0.0.0:{port}"
    )
    quiet = run_cli("--quiet", "--prometheus", f"127.0.0.1:{free_port()}", "-n", "1", "-i", "0.2")
    assert quiet.returncode == 0 and quiet.stderr == ""


def start_events(pid: int, *flags: str) -> subprocess.Popen[str]:
    """Start `syscalltop --events` on every call of `pid`, 0.3 s intervals."""
    return subprocess.Popen(
        [*SYSCALLTOP, "--events", "--sample", "1", "-p", str(pid), "-i", "0.3", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )


def test_largest_perf_buffer_really_opens_and_samples(workload_factory) -> None:
    workload = workload_factory("--getppid=3000")
    process = start_events(workload.pid, "--perf-pages", "65536", "-d", "5")
    wait_attached(process.pid)  # compile, attach and map 256 MiB per CPU
    workload.go()
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    exits = [json.loads(line) for line in stdout.splitlines()]
    getppid = [e for e in exits if e["eventName"] == "sys_exit" and e["syscall"] == "getppid"]
    assert len(getppid) == 3000, stderr


def test_batch_ends_when_every_pid_target_has_exited(workload_factory) -> None:
    workload = workload_factory("--getppid=500")
    process = subprocess.Popen(
        [*SYSCALLTOP, "--json", "-i", "0.3", "-p", str(workload.pid)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()
    workload.go()
    workload.finish()
    out, err = process.communicate(timeout=20)
    assert process.returncode == 0
    assert err.splitlines() == [
        f"syscalltop: pid {workload.pid} has exited",
        "syscalltop: every target has exited; stopping (--keep-running goes on)",
    ]
    lines = [json.loads(line) for line in [first, *out.splitlines()]]
    counted = sum(p["syscalls"].get("getppid", 0) for line in lines for p in line["processes"])
    assert counted == 500


def test_events_end_when_every_pid_target_has_exited_with_all_its_calls(workload_factory) -> None:
    """--events -p ran on after its target exited, where --json -p stops (they now agree)."""
    workload = workload_factory("--getppid=500")
    # Every call of the Python workload is an event or two (its exit alone makes hundreds): a
    # ring of 1,900 per CPU overflowed when this reader was descheduled on a busy machine.
    process = start_events(workload.pid, "--perf-pages", "1024")
    wait_attached(process.pid)  # the events stream has no first line to wait for
    workload.go()
    workload.finish()
    out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert err.splitlines() == [
        f"syscalltop: pid {workload.pid} has exited",
        "syscalltop: every target has exited; stopping (--keep-running goes on)",
    ]
    exits = [json.loads(line) for line in out.splitlines()]
    getppid = [e for e in exits if e["eventName"] == "sys_exit" and e["syscall"] == "getppid"]
    assert len(getppid) == 500
