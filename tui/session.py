"""Wiring: open the source, recorder and exporter a Config asks for, for every mode alike."""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.config import Config
from tui.errors import EXIT_BPF_FAILED, EXIT_NO_PRIVILEGE, UsageError
from tui.export.seccomp import ProcessStarts
from tui.model.names import SyscallNames
from tui.model.prototypes import Prototype
from tui.model.readings import RawReading
from tui.model.snapshot import DescribeProcess
from tui.model.view import StatusFacts
from tui.sources.base import Source
from tui.sources.recording import (
    Recorder,
    RecordingError,
    ReplaySource,
    load_recording,
)
from tui.system import TargetWatch, can_load_bpf, in_host_pid_namespace

if TYPE_CHECKING:  # prometheus_client costs 14 MB and 60 ms: loaded only with --prometheus
    from tui.export.prometheus import SyscallMetrics


@dataclass
class Session:
    """What one run reads from and writes to; close() releases all of it."""

    config: Config
    names: SyscallNames
    source: Source
    describe: DescribeProcess
    recorder: Recorder | None = None
    metrics: SyscallMetrics | None = None
    replay: ReplaySource | None = None
    # --seccomp-profile: which processes of the target were watched from their start.
    starts: ProcessStarts | None = None
    # The live source still compiling and attaching, when opened with background=True.
    starting: BackgroundStart | None = None

    def observe(self, reading: RawReading) -> None:
        """Note a reading's processes for the seccomp profile written at exit."""
        if self.starts is not None:
            self.starts.observe(reading)

    @property
    def prototypes(self) -> dict[str, Prototype] | None:
        """Return the running kernel's syscall prototypes (live), else None (the shipped ones)."""
        return getattr(self.source, "prototypes", None)

    def close(self) -> None:
        """Close the recording and detach the source (safe twice)."""
        if self.recorder is not None:
            self.recorder.close()
        if self.starting is not None:
            self.starting.join()  # a quit during the compile: what it loads is freed below
        self.source.close()


class BackgroundStart(threading.Thread):
    """Compile, load and attach the live source on a thread, so the dashboard draws its
    first screen meanwhile (clang lets go of the GIL); a failure is kept for the dashboard to
    raise once the terminal is restored (a UsageError is one line and its exit code)."""

    def __init__(self, source: Any) -> None:
        super().__init__(name="start-source", daemon=True)
        self.source = source
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            start_live_source(self.source)
        except BaseException as error:  # raised again on the main thread, not lost here
            self.error = error


def open_session(
    config: Config, names: SyscallNames, keep_every_sample: bool = False, background: bool = False
) -> Session:
    """Open what `config` asks for: a replay, or (recording, metrics and) the live source;
    with `background`, the live source starts on a thread (Session.starting)."""
    if config.replay_path:
        replay = open_replay(config.replay_path)
        config = replace(config, interval_s=replay.interval_s)
        metrics = start_metrics(config, names)
        return Session(config, names, replay, replay.describe, None, metrics, replay)
    from tui.procinfo import ProcessInfo

    recorder = open_recorder(config, names)  # before loading BPF: bad paths fail fast
    try:
        metrics = start_metrics(config, names)  # the port is taken before any BPF is loaded
        source = open_live_source(config, names, keep_every_sample, start=not background)
    except BaseException:
        if recorder is not None:
            recorder.close()
        raise
    starting = BackgroundStart(source) if background else None
    if starting is not None:
        starting.start()
    starts = ProcessStarts(names) if config.seccomp_profile else None
    describe = ProcessInfo().describe
    return Session(config, names, source, describe, recorder, metrics, None, starts, starting)


def open_live_source(
    config: Config, names: SyscallNames, keep_every_sample: bool = False, start: bool = True
) -> Any:
    """Make (and start, unless `start` is False) the BCC source, turning each set-up failure
    into one line and an exit code."""
    if not can_load_bpf():
        raise UsageError(
            "needs root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN) to load BPF programs; "
            "run it with sudo",
            EXIT_NO_PRIVILEGE,
        )
    if not in_host_pid_namespace():
        # BPF reports host pids; from here /proc would put the wrong names on them.
        raise UsageError(
            "runs in a pid namespace that is not the host's: BPF reports host pids, and this "
            "/proc cannot name them; run it on the host (or with docker run --pid=host)"
        )
    try:
        from tui.sources.bcc_source import BccSource, bcc_version

        bcc_version()  # found without importing bcc (a kept image needs no compiler)
    except ImportError as error:
        raise UsageError(
            f"bcc's Python bindings are missing ({error}); install python3-bpfcc "
            "(make setup does) and use the distro's python3"
        ) from None
    source = BccSource(config, names, None) if keep_every_sample else BccSource(config, names)
    if start:
        start_live_source(source)
    return source


def start_live_source(source: Any) -> None:
    """Compile, load and attach a BccSource; each failure is one line and an exit code."""
    from tui.sources.bcc_source import BpfLoadFailed
    from tui.sources.kernel_headers import HeadersMissing

    try:
        source.start()
    except HeadersMissing as error:
        source.close()
        raise UsageError(str(error)) from None
    except BpfLoadFailed as error:
        source.close()
        raise UsageError(str(error), EXIT_BPF_FAILED) from None


def open_replay(path: str) -> ReplaySource:
    """Load a recording for replay; damage is one warning line, the readable part replays."""
    try:
        recording = load_recording(Path(path))
    except RecordingError as error:
        raise UsageError(str(error)) from None
    if recording.damage:
        print(
            f"syscalltop: warning: {recording.damage}; replaying the "
            f"{len(recording.frames)} readings before it",
            file=sys.stderr,
        )
    return ReplaySource(recording)


def recording_header(config: Config, names: SyscallNames) -> dict[str, object]:
    """Return the facts a recording starts with."""
    return {
        "host": socket.gethostname(),
        "kernel": os.uname().release,
        "arch": names.arch,
        "cpus": os.cpu_count(),
        "interval_s": config.interval_s,
        "filters": config.filters.describe(),
        "sample_every": config.sample_every,
        "started": time.time(),
    }


def open_recorder(config: Config, names: SyscallNames) -> Recorder | None:
    """Create the recording file, or return None without --record."""
    if not config.record_path:
        return None
    try:
        return Recorder(
            Path(config.record_path), recording_header(config, names), force=config.force
        )
    except RecordingError as error:
        raise UsageError(str(error)) from None


def start_metrics(config: Config, names: SyscallNames) -> SyscallMetrics | None:
    """Serve Prometheus metrics when asked."""
    if config.prometheus_listen is None:
        return None
    from tui.export.prometheus import SyscallMetrics, is_loopback, serve

    address, port = config.prometheus_listen
    shown = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    metrics = SyscallMetrics(names, config.prometheus_groups)
    try:
        serve(metrics, config.prometheus_listen)
    except OSError as error:
        reason = error.strerror or str(error)
        raise UsageError(f"cannot serve metrics on {shown}: {reason}") from None
    # Once listening (an address that does not resolve gets its one line above, not two).
    if not is_loopback(address):
        print(
            f"syscalltop: warning: --prometheus {shown} serves every pid, comm and "
            "syscall rate to the network, unauthenticated; bind 127.0.0.1 and put a reverse "
            "proxy with TLS and auth in front (README, Metrics)",
            file=sys.stderr,
        )
    return metrics


def default_facts(config: Config, source: Source) -> StatusFacts:
    """Return the status facts of this machine and session."""
    headers = getattr(source, "headers", None)
    if isinstance(source, ReplaySource):
        # The machine and the run that made the recording, not this one.
        recorded = source.recorded_on
        return StatusFacts(
            host=recorded.get("host", "?"),
            kernel=recorded.get("kernel", "?"),
            cpus=recorded.get("cpus", 0),
            source=source.label,
            sample_every=recorded.get("sample_every", 0),
            filters=recorded.get("filters", "?"),
            tier=config.level,
        )
    return StatusFacts(
        host=socket.gethostname(),
        kernel=os.uname().release,
        cpus=os.cpu_count() or 1,
        source=source.label,
        sample_every=config.sample_every,
        filters=config.filters.describe(),
        headers=headers.describe() if headers is not None else None,
        tier=config.level,
    )


def write_seccomp_profile(
    session: Session, first: RawReading | None, last: RawReading | None
) -> bool:
    """Write --seccomp-profile from what the (kernel-filtered) target called; say it."""
    config = session.config
    if not config.seccomp_profile or first is None or last is None:
        return True
    from tui.export.seccomp import observed_in, write_profile
    from tui.safe_files import SafeFileError

    filters = config.filters
    target = (
        f"pid {','.join(map(str, filters.pids))}" if filters.pids else str(filters.cgroup_label)
    )
    starts = session.starts
    from_start = starts is not None and starts.from_start(filters.pids or None)
    observed = observed_in(first, last, session.names, target, None, from_start)
    try:
        write_profile(Path(config.seccomp_profile), observed, session.names, config.force)
    except SafeFileError as error:
        print(f"syscalltop: {error}", file=sys.stderr)
        return False
    allowed = len(observed.native | observed.compat)
    print(
        f"syscalltop: wrote {config.seccomp_profile}: {allowed} syscalls {target} made in "
        f"{observed.watched_s:.0f} s watched",
        file=sys.stderr,
    )
    return True


def target_watch(config: Config) -> TargetWatch | None:
    """Return a watch on the -p/-t targets of a live run, or None."""
    filters = config.filters
    if config.replay_path or not (filters.pids or filters.tids):
        return None
    return TargetWatch(filters.pids or filters.tids, "pid" if filters.pids else "tid")
