"""The exporter unit's command line under the unit's own capability set (systemd is not PID 1
here, so setpriv applies what systemd would): /healthz and /metrics answer with real counts."""

from __future__ import annotations

import shlex
import subprocess
import sys
import urllib.request

import pytest

from tests.bpf.test_prometheus_live import free_port, wait_for
from tests.conftest import REPO
from tests.unit.test_fleet import unit_section

pytestmark = pytest.mark.bpf


def capability_mask(status: str, field: str) -> int:
    with open(status) as lines:
        return next(int(line.split()[1], 16) for line in lines if line.startswith(f"{field}:"))


def test_exporter_answers_under_the_units_capabilities_only() -> None:
    service = unit_section("Service")
    command = shlex.split(service["ExecStart"])
    assert command[0] == "/usr/local/bin/syscalltop"
    port = free_port()
    args = [a.replace("127.0.0.1:9545", f"127.0.0.1:{port}") for a in command[1:]]
    args = [a if a != "5" else "0.5" for a in args]  # a quicker interval for the test
    caps = ",".join(
        "+" + c.removeprefix("CAP_").lower() for c in service["CapabilityBoundingSet"].split()
    )
    process = subprocess.Popen(
        [
            "setpriv",
            f"--bounding-set=-all,{caps}",
            "--inh-caps=-all",
            "--no-new-privs",
            sys.executable,
            "-m",
            "tui",
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    try:
        status = f"/proc/{process.pid}/status"
        health = wait_for(
            lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read(), 30
        )
        assert health == b"ok\n"
        series = b'syscalltop_syscalls_total{syscall="'
        body = wait_for(
            lambda: (
                series
                in urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()
            ),
            30,
        )
        assert body
        # BPF, PERFMON and SYS_RESOURCE only (less any that this machine's sandbox withholds).
        unit_caps = (1 << 39) | (1 << 38) | (1 << 24)
        wanted = unit_caps & capability_mask("/proc/self/status", "CapBnd")
        assert capability_mask(status, "CapEff") == wanted
    finally:
        process.terminate()
        _out, err = process.communicate(timeout=10)
    assert process.returncode == 143, err
    assert err == b""
