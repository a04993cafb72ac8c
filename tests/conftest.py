"""Shared fixtures: a controlled workload process and the rule for real-BPF tests."""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
WORKLOAD = REPO / "tests" / "workload.py"


def _own_program_cache() -> None:
    """Give this test run (and the tools it starts) a program cache of its own: each
    configuration compiles once in the run, and every later start of it loads the image."""
    if "SYSCALLTOP_PROGRAM_CACHE" in os.environ:
        return
    directory = tempfile.mkdtemp(prefix="syscalltop-programs-")
    atexit.register(shutil.rmtree, directory, True)
    os.environ["SYSCALLTOP_PROGRAM_CACHE"] = directory


_own_program_cache()


def bpf_unavailable_reason() -> str | None:
    """Return why real BPF tests cannot run here, or None when they can."""
    if os.geteuid() != 0:
        return "real-BPF tests need root"
    try:
        import bcc  # noqa: F401
    except ImportError:
        return "bcc's Python bindings (python3-bpfcc) are not importable"
    return None


def _under_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip real-BPF tests without root, saying why; under CI they must run, so fail."""
    if "bpf" not in item.keywords:
        return
    reason = bpf_unavailable_reason()
    if reason is None:
        return
    if _under_ci():
        pytest.fail(f"CI=true but real-BPF tests cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


@dataclass
class Workload:
    """A running tests/workload.py child."""

    process: subprocess.Popen[str]
    name: str

    @property
    def pid(self) -> int:
        return self.process.pid

    def go(self, timeout_s: float = 30.0) -> None:
        """Tell it to do its work and wait until it says it is done."""
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write("go\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line.strip() == "done", f"workload said {line!r}"

    def finish(self) -> None:
        """Let it exit and reap it."""
        if self.process.poll() is None:
            assert self.process.stdin
            with contextlib.suppress(BrokenPipeError):
                self.process.stdin.close()
            self.process.wait(10)


@functools.cache
def shared_workload() -> tuple[str, str]:
    """Return (interpreter, script) any user can run: the checkout may be private (0700).

    The workload needs only the standard library, so it runs on the venv's base interpreter
    from a copy in a world-readable directory of its own.
    """
    directory = Path(tempfile.mkdtemp(prefix="syscalltop-workload-"))
    directory.chmod(0o755)
    script = directory / "workload.py"
    shutil.copy(WORKLOAD, script)
    script.chmod(0o644)
    atexit.register(shutil.rmtree, directory, True)
    return os.path.realpath(sys.executable), str(script)


def wait_attached(pid: int, timeout_s: float = 60.0) -> None:
    """Wait until process `pid` has attached its programs (bpf_link fds; the full tier's, which
    it attaches last) and opened its perf buffer (one perf event fd a CPU): a fixed sleep raced
    a compile on a busy machine."""
    import time

    from tui.sources.bcc_source import TRACEPOINTS_TIMED

    links = len(TRACEPOINTS_TIMED)

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        targets = []
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                targets.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        perf = targets.count("anon_inode:[perf_event]")
        if targets.count("anon_inode:bpf_link") >= links and perf >= (os.cpu_count() or 1):
            return
        time.sleep(0.05)
    raise AssertionError(f"pid {pid} did not attach within {timeout_s} s")


def start_workload(*flags: str, name: str | None = None, **popen: object) -> Workload:
    """Start a workload with its own comm and wait until it has renamed itself."""
    name = name or f"wl{uuid.uuid4().hex[:10]}"
    interpreter, script = shared_workload()
    process = subprocess.Popen(
        [interpreter, script, "--name", name, *flags],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        **popen,  # type: ignore[arg-type]
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    return Workload(process, name)


@pytest.fixture
def workload_factory() -> Iterator[object]:
    """Start workloads and make sure they are gone at the end of the test."""
    started: list[Workload] = []

    def make(*flags: str, name: str | None = None, **popen: object) -> Workload:
        workload = start_workload(*flags, name=name, **popen)
        started.append(workload)
        return workload

    yield make
    for workload in started:
        if workload.process.poll() is None:
            workload.process.kill()
            workload.process.wait(10)
