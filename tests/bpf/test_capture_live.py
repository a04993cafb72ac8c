"""Explain the call, live: a workload the tests do not script call by call fails in four ways
and makes one slow call; `syscalltop --json` names every path, address and argv with its
errno and pid within two intervals, counts stay exact, and the capture budget holds."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import uuid
from pathlib import Path

import pytest

from tests.bpf.test_cli_live import SYSCALLTOP
from tests.conftest import REPO

pytestmark = pytest.mark.bpf
WORKLOAD = REPO / "tests" / "explain_workload.py"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the probe goes


def run_beside(workload_args: list[str], *flags: str, intervals: int = 5) -> tuple[list[dict], int]:
    """Run syscalltop --json; start the workload once it is attached; return lines and pid."""
    name = workload_args[0]
    child = subprocess.Popen(
        [sys.executable, str(WORKLOAD), *workload_args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdin is not None
    assert child.stdout.readline().strip() == "ready"
    with tempfile.TemporaryFile("w+") as errors:
        tool = subprocess.Popen(
            [*SYSCALLTOP, "--json", "-i", "0.5", "-n", str(intervals), "--comm", name, *flags],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            cwd=REPO,
        )
        assert tool.stdout is not None
        killer = threading.Timer(60, tool.kill)
        killer.start()
        first = tool.stdout.readline()  # attached: the first interval is out
        child.stdin.write("go\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "done"
        rest = tool.stdout.read()
        killer.cancel()
        tool.wait()
        errors.seek(0)
        assert tool.returncode == 0, errors.read()
    child.stdin.close()
    child.wait(10)
    return [json.loads(line) for line in (first + rest).splitlines() if line.strip()], child.pid


def all_targets(lines: list[dict]) -> list[dict]:
    return [
        {"syscall": row["name"], **target}
        for line in lines
        for row in line["syscalls"]
        for target in row["targets"]
    ]


def test_every_failure_and_the_slow_call_are_named_with_errno_and_pid(tmp_path: Path) -> None:
    name = f"ex{uuid.uuid4().hex[:8]}"
    missing = f"/etc/{name}/config.yaml"
    port = closed_port()
    sock = str(tmp_path / "missing.sock")
    binary = f"/opt/{name}/bin/server"
    lines, pid = run_beside([name, missing, str(port), sock, binary])
    targets = all_targets(lines)

    def found(syscall: str, target: str, errno_name: str) -> dict:
        hits = [
            t
            for t in targets
            if (t["syscall"], t["target"], t["errno"]) == (syscall, target, errno_name)
        ]
        assert hits, f"{syscall} {target} {errno_name} not in {[t['target'] for t in targets]}"
        assert all(hit["pid"] == pid and hit["comm"] == name for hit in hits)
        return hits[0]

    opened = found("openat", missing, "ENOENT")
    assert sum(t["count"] for t in targets if t["target"] == missing) == 7  # every one captured
    assert opened["call"] == f'openat(AT_FDCWD, "{missing}", O_RDONLY|O_CLOEXEC) = -2 ENOENT'
    found("connect", f"127.0.0.1:{port}", "ECONNREFUSED")
    found("connect", sock, "ENOENT")
    execve = found("execve", binary, "ENOENT")
    assert f'["{binary}", "--config", "/etc/app.conf"]' in execve["call"]
    slow = [c for line in lines for c in line["slowest"] if c["pid"] == pid]
    assert any(
        c["syscall"] == "clock_nanosleep" and 300_000_000 <= c["duration_ns"] < 400_000_000
        for c in slow
    ), slow
    # Counters stay exact: 7 + 4 failed opens (the hostile paths), all ENOENT but one.
    openat = [row for line in lines for row in line["syscalls"] if row["name"] == "openat"]
    assert sum(row["errors"] for row in openat) == 11
    assert sum(row["errnos"].get("ENOENT", 0) for row in openat) == 10
    assert sum(row["errnos"].get("ENAMETOOLONG", 0) for row in openat) == 1
    assert sum(row["captured"]["failures"] for row in openat) == 11


def test_hostile_paths_come_out_escaped_and_cut_with_a_marker(tmp_path: Path) -> None:
    name = f"hx{uuid.uuid4().hex[:8]}"
    lines, _pid = run_beside(
        [name, "/nonexistent", str(closed_port()), "/nonexistent", "/nonexistent"]
    )
    raw = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
    assert "\x1b" not in raw and "\x07" not in raw and "\ufffd" not in raw
    shown = {t["target"] for t in all_targets(lines)}
    assert "/tmp/\\x1b]52;c;QQ==\\x07osc52" in shown
    assert "/tmp/\\xff\\xfe-invalid-utf8" in shown
    assert "/tmp/[bold red]markup[/bold red]" in shown  # literal: JSON is not Rich markup
    long = [t for t in shown if t.startswith("/tmp/LLLL")]
    assert long and all(t.endswith("…") and len(t) <= 260 for t in long)


def run_script_beside(body: str, intervals: int, capture_rate: int) -> list[dict]:
    """Run `body` (Python, its own comm) once syscalltop --json is attached; return the lines."""
    name = f"bx{uuid.uuid4().hex[:8]}"
    script = (
        "import ctypes,os,socket,sys\n"
        f"ctypes.CDLL(None).prctl(15, b'{name}', 0, 0, 0)\n"
        "print('ready', flush=True); sys.stdin.readline()\n"
        f"{body}"
        "print('done', flush=True); sys.stdin.readline()\n"
    )
    path = Path(tempfile.mkdtemp()) / "workload.py"
    path.write_text(script)
    child = subprocess.Popen(
        [sys.executable, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout and child.stdin and child.stdout.readline().strip() == "ready"
    flags = ["-i", "0.5", "-n", str(intervals), "--comm", name, "--capture-rate", str(capture_rate)]
    tool = subprocess.Popen(
        [*SYSCALLTOP, "--json", *flags],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert tool.stdout is not None
    first = tool.stdout.readline()
    child.stdin.write("go\n")
    child.stdin.flush()
    assert child.stdout.readline().strip() == "done"
    rest, _ = tool.communicate(timeout=60)
    child.stdin.close()
    child.wait(10)
    return [json.loads(line) for line in (first + rest).splitlines()]


def test_the_budget_holds_and_what_it_suppresses_is_counted_exactly() -> None:
    body = (
        "for _ in range(30000):\n"
        "    try: os.open('/nonexistent/budget', os.O_RDONLY)\n"
        "    except OSError: pass\n"
    )
    lines = run_script_beside(body, intervals=6, capture_rate=20)
    openat = [row for line in lines for row in line["syscalls"] if row["name"] == "openat"]
    failures = sum(row["errors"] for row in openat)
    captured = sum(row["captured"]["failures"] for row in openat)
    suppressed = sum(row["captured"]["suppressed"] for row in openat)
    assert failures == 30000
    assert captured + suppressed == failures
    seconds = 6 * 0.5
    cpus = os.cpu_count() or 1
    # 20 a second per CPU, plus each CPU's bucket starting full (one second's worth).
    assert 0 < captured <= 20 * cpus * (seconds + 1), captured


def test_a_second_way_of_failing_is_explained_while_the_first_keeps_the_budget_empty(
    tmp_path: Path,
) -> None:
    """2,000 refused connects spend connect's bucket; the 3 to a missing unix socket after
    them used to go unexplained (ENOENT counted, no target anywhere)."""
    sock = str(tmp_path / "missing.sock")
    port = closed_port()
    body = (
        "def attempt(family, address):\n"
        "    with socket.socket(family) as s:\n"
        "        try: s.connect(address)\n"
        "        except OSError: pass\n"
        f"for _ in range(2000): attempt(socket.AF_INET, ('127.0.0.1', {port}))\n"
        f"for _ in range(3): attempt(socket.AF_UNIX, {sock!r})\n"
    )
    lines = run_script_beside(body, intervals=4, capture_rate=1)
    connect = [row for line in lines for row in line["syscalls"] if row["name"] == "connect"]
    assert sum(row["errnos"].get("ECONNREFUSED", 0) for row in connect) == 2000
    assert sum(row["errnos"].get("ENOENT", 0) for row in connect) == 3
    found = {(t["syscall"], t["target"], t["errno"]) for t in all_targets(lines)}
    assert ("connect", f"127.0.0.1:{port}", "ECONNREFUSED") in found
    assert ("connect", sock, "ENOENT") in found
    captured = sum(row["captured"]["failures"] for row in connect)
    suppressed = sum(row["captured"]["suppressed"] for row in connect)
    assert captured + suppressed == 2003
