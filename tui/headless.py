"""Headless modes: a text table or a JSON line per interval, and the sampled-events stream."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

from tui.collector import paced_readings
from tui.config import Config, Mode
from tui.errors import EXIT_FAILURE, EXIT_OK, UsageError
from tui.export.batch import json_line, text_table
from tui.export.events import event_lines, monotonic_to_epoch_offset_ns
from tui.model.anomaly import AnomalySettings
from tui.model.names import SyscallNames
from tui.model.readings import RawReading
from tui.model.snapshot import SnapshotStream
from tui.session import Session, open_live_source, target_watch, write_seccomp_profile
from tui.signals import StopRequest
from tui.sources.recording import CapturingDescribe, RecordingError
from tui.system import TargetWatch


def _quiet_stdout() -> None:
    # The reader went away (e.g. `| head`): stop quietly, as other filters do.
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def run_batch(session: Session, stop: StopRequest) -> int:
    """Print one table or JSON line per interval until -n/-d or a signal (exit 128 + it)."""
    config, names = session.config, session.names
    settings = AnomalySettings(deviations=config.anomaly_sensitivity)
    capture = CapturingDescribe(session.describe)
    stream = SnapshotStream(names, capture, settings, session.prototypes)
    readings = _readings(session, stop)
    limit = config.max_intervals
    printed = 0
    recording_failed = False
    targets = target_watch(config)
    first: RawReading | None = None
    try:
        for reading in readings:
            first = first or reading
            session.observe(reading)
            snapshot = stream.push(reading)
            identities = capture.take()  # always: what it remembers is only for this interval
            if session.recorder is not None and not session.recorder.closed:
                try:
                    session.recorder.record(reading, identities)
                except RecordingError as error:
                    recording_failed = True
                    if config.quiet and session.metrics is None:
                        print(f"syscalltop: {error}", file=sys.stderr)
                        break  # recording was all this run did
                    print(f"syscalltop: {error}; going on without it", file=sys.stderr)
            if session.metrics is not None:
                session.metrics.update(reading, snapshot)
            if snapshot is None:
                continue
            if config.quiet:
                pass
            elif config.mode is Mode.BATCH_JSON:
                sys.stdout.write(json_line(snapshot, config.top_n, config.level) + "\n")
            else:
                sys.stdout.write(text_table(snapshot, config.top_n) + "\n")
            sys.stdout.flush()
            printed += 1
            if limit is not None and printed >= limit:
                break
            if _every_target_gone(targets, config.keep_running):
                break
    except BrokenPipeError:
        _quiet_stdout()
    profile_failed = not write_seccomp_profile(session, first, stream.previous)
    failed = recording_failed or profile_failed
    # A damaged recording replayed up to the damage: said at start, and a script can tell.
    damaged = session.replay is not None and session.replay.recording.damage is not None
    return stop.exit_code or (EXIT_FAILURE if failed or damaged else EXIT_OK)


def _every_target_gone(targets: TargetWatch | None, keep_running: bool) -> bool:
    """Say which -p/-t targets exited; return True when all have and the run should stop."""
    if targets is None:
        return False
    news, all_gone = targets.news()
    for line in news:
        print(f"syscalltop: {line}", file=sys.stderr)
    if all_gone and not keep_running:
        print(
            "syscalltop: every target has exited; stopping (--keep-running goes on)",
            file=sys.stderr,
        )
        return True
    return False


def _readings(session: Session, stop: StopRequest) -> Iterator[RawReading]:
    if session.replay is not None:
        replay = session.replay
        # Lazily, so each push sees the identities recorded with its own reading.
        return (replay.read() for _ in replay.recording.frames if not stop.event.is_set())
    return paced_readings(session.source, lambda: session.config.interval_s, stop.event)


def run_events(config: Config, names: SyscallNames, stop: StopRequest) -> int:
    """Stream every sampled call as Tracee-style JSON until -n/-d or a signal."""
    import psutil

    if config.sample_every <= 0:
        raise UsageError("--events needs sampling: use --sample N with N >= 1")
    source = open_live_source(config, names, keep_every_sample=True)
    parents: dict[int, int] = {}

    def parent_of(pid: int) -> int:
        if pid not in parents:
            try:
                parents[pid] = psutil.Process(pid).ppid()
            except psutil.Error:
                parents[pid] = 0
        return parents[pid]

    offset = monotonic_to_epoch_offset_ns()
    limit = config.max_intervals
    targets = target_watch(config)
    lost_before = 0
    try:
        reading: RawReading
        for count, reading in enumerate(
            paced_readings(source, lambda: config.interval_s, stop.event)
        ):
            for line in event_lines(reading.samples, names, parent_of, offset, source.prototypes):
                sys.stdout.write(line + "\n")
            lost = reading.loss.lost_samples
            if lost > lost_before:
                print(
                    f"syscalltop: lost {lost - lost_before} samples (perf buffer full)",
                    file=sys.stderr,
                )
                lost_before = lost
            sys.stdout.flush()
            if limit is not None and count >= limit:
                break
            if _every_target_gone(targets, config.keep_running):
                break
    except BrokenPipeError:
        _quiet_stdout()
    finally:
        source.close()
    return stop.exit_code or EXIT_OK
