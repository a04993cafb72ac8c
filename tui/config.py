"""Run configuration: filters, timing and mode, fixed for the life of a session."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from enum import Enum

from tui.model.sanitize import safe_text


class Mode(Enum):
    """What the program does with its readings."""

    DASHBOARD = "dashboard"
    BATCH_TEXT = "batch"
    BATCH_JSON = "json"
    EVENTS = "events"


@dataclass(frozen=True, slots=True)
class Filters:
    """In-kernel filters; empty means everything."""

    pids: tuple[int, ...] = ()
    tids: tuple[int, ...] = ()
    comm: str | None = None
    uid: int | None = None
    cgroup_id: int | None = None
    cgroup_level: int | None = None
    cgroup_label: str | None = None
    syscall_names: tuple[str, ...] = ()
    failures_only: bool = False
    errno_value: int | None = None

    def describe(self) -> str:
        """Return a short human summary of the active filters."""
        parts: list[str] = []
        if self.pids:
            parts.append("pid " + ",".join(map(str, self.pids)))
        if self.tids:
            parts.append("tid " + ",".join(map(str, self.tids)))
        if self.comm is not None:
            parts.append(f"comm {safe_text(os.fsencode(self.comm))}")
        if self.uid is not None:
            parts.append(f"uid {self.uid}")
        if self.cgroup_label is not None:
            parts.append(f"cgroup {self.cgroup_label}")
        if self.syscall_names:
            parts.append("syscall " + ",".join(self.syscall_names))
        if self.failures_only:
            parts.append("failures only")
        if self.errno_value is not None:
            parts.append(f"errno {self.errno_value}")
        return "; ".join(parts) if parts else "none"


DEFAULT_SAMPLE_EVERY = 1000
DEFAULT_CAPTURE_RATE = 20  # captured calls a second, per syscall and CPU
DEFAULT_SLOW_MS = 100.0
MIN_INTERVAL_S = 0.1
MAX_INTERVAL_S = 3600.0


@dataclass(frozen=True, slots=True)
class Config:
    """Everything a session needs to know before it starts."""

    mode: Mode = Mode.DASHBOARD
    interval_s: float = 1.0
    duration_s: float | None = None
    interval_count: int | None = None
    top_n: int | None = None
    sample_every: int = DEFAULT_SAMPLE_EVERY
    filters: Filters = field(default_factory=Filters)
    sort_key: str = "rate"  # Top syscalls' sort column (config file `sort`)
    theme: str = "dark"
    anomaly_sensitivity: float = 6.0
    record_path: str | None = None
    prometheus_listen: tuple[str, int] | None = None
    quiet: bool = False
    snapshot_dir: str = "."
    perf_pages: int = 64
    proc_map_entries: int = 65536
    hist_rows: int = 128  # syscalls with a fine (log-linear) latency histogram
    level: str = "full"  # "counts": one exit-side program, no clock reads, no latency
    replay_path: str | None = None
    force: bool = False
    keep_running: bool = False
    capture_rate: int = DEFAULT_CAPTURE_RATE
    slow_ms: float = DEFAULT_SLOW_MS
    seccomp_profile: str | None = None
    prometheus_groups: int = 10
    show_self: bool = False  # count syscalltop's own calls (and show the lookups it spawns)
    hidden_columns: tuple[str, ...] = ()  # from the config file: columns no table shows

    @property
    def timed(self) -> bool:
        """Return whether latency is measured (every tier but counts)."""
        return self.level != "counts"

    @property
    def max_intervals(self) -> int | None:
        """Return how many intervals to run, from -n or -d, or None for no limit."""
        limits: list[int] = []
        if self.interval_count is not None:
            limits.append(self.interval_count)
        if self.duration_s is not None:
            limits.append(max(1, round(self.duration_s / self.interval_s)))
        return min(limits) if limits else None
