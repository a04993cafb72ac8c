"""The dashboard in a real terminal (tmux), for tests and the incidents script."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


class Terminal:
    """A tmux session running the dashboard, with every byte it printed captured raw."""

    def __init__(
        self, tmp_path: Path, *args: str, size: str = "100x30", until: str = "calls/s"
    ) -> None:
        """Start the dashboard; return once the screen shows `until` (by default the live
        frame: the first screen is drawn earlier, while BPF still compiles)."""
        if shutil.which("tmux") is None:
            raise RuntimeError("tmux is needed (make setup-test installs it)")
        self.name = f"st-{uuid.uuid4().hex[:8]}"
        # A tmux server of its own: on the shared one, the last session's close made the
        # server exit while the next test's new-session connected ("server exited
        # unexpectedly").
        self.tmux = ["tmux", "-L", self.name]
        self.raw = tmp_path / f"{self.name}.raw"
        width, height = size.split("x")
        subprocess.run(
            [*self.tmux, "new-session", "-d", "-s", self.name, "-x", width, "-y", height],
            check=True,
        )
        subprocess.run(
            [*self.tmux, "pipe-pane", "-t", self.name, "-o", f"cat >> {self.raw}"], check=True
        )
        # The dashboard's pid, written by the shell that becomes it (never looked up by name).
        self.pid_file = tmp_path / f"{self.name}.pid"
        command = " ".join([sys.executable, "-m", "tui", *args])
        wrapped = shlex.quote(f"echo $$ > {self.pid_file}; exec {command}")
        self.keys(f"cd {REPO} && sh -c {wrapped}", "Enter")
        self.pid = self._wait_for_pid(until)

    def _wait_for_pid(self, until: str) -> int:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            written = self.pid_file.read_text().strip() if self.pid_file.exists() else ""
            if written.isdigit() and until in self.screen():
                return int(written)
            time.sleep(0.02)
        raise AssertionError(f"dashboard did not start:\n{self.screen()}")

    def keys(self, *keys: str) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", self.name, *keys], check=True)

    def screen(self) -> str:
        return subprocess.run(
            [*self.tmux, "capture-pane", "-t", self.name, "-p"], capture_output=True, text=True
        ).stdout

    def wait_exit(self, timeout_s: float) -> float:
        start = time.monotonic()
        while time.monotonic() - start < timeout_s:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return time.monotonic() - start
            time.sleep(0.05)
        raise AssertionError(f"still running after {timeout_s} s")

    def close(self) -> None:
        socket = subprocess.run(
            [*self.tmux, "display-message", "-p", "#{socket_path}"], capture_output=True, text=True
        ).stdout.strip()
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)
        if socket.endswith(self.name):  # tmux leaves its socket behind
            with contextlib.suppress(OSError):
                os.unlink(socket)
