"""A real Prometheus (from the distro, on loopback) scrapes --prometheus: exact counts."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.bpf
CALLS = 4321


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(url: str, timeout: float = 2.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def wait_for(check, seconds: float):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while True:
        try:
            value = check()
            if value:
                return value
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.25)


def test_prometheus_scrapes_exact_syscall_counts(tmp_path: Path, workload_factory) -> None:
    prometheus = shutil.which("prometheus")
    assert prometheus, "make setup installs Debian's prometheus package for this test"
    workload = workload_factory(f"--getppid={CALLS}")
    ours, theirs = free_port(), free_port()
    exporter = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tui",
            "--quiet",
            "--prometheus",
            f"127.0.0.1:{ours}",
            "-p",
            str(workload.pid),
            "-i",
            "0.5",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n"
        "scrape_configs:\n  - job_name: syscalltop\n"
        f"    static_configs:\n      - targets: ['127.0.0.1:{ours}']\n"
    )
    server = subprocess.Popen(
        [
            prometheus,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{theirs}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(
            lambda: b"syscalltop_syscalls_total" in get(f"http://127.0.0.1:{ours}/metrics"), 30
        )
        wait_for(lambda: get(f"http://127.0.0.1:{theirs}/-/ready"), 30)
        workload.go()
        query = urllib.parse.quote('syscalltop_syscalls_total{syscall="getppid"}')

        def scraped() -> float | None:
            body = json.loads(get(f"http://127.0.0.1:{theirs}/api/v1/query?query={query}"))
            result = body["data"]["result"]
            value = float(result[0]["value"][1]) if result else None
            return value if value == CALLS else None

        assert wait_for(scraped, 30) == CALLS
        text = get(f"http://127.0.0.1:{ours}/metrics").decode()
        assert 'syscalltop_syscall_latency_seconds_bucket{le="+Inf",syscall="getppid"}' in text
        assert "syscalltop_lost_samples_total" in text
    finally:
        for process in (server, exporter):
            process.terminate()
            process.wait(10)
