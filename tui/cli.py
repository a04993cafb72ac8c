"""Command line: parse flags into a Config, check them, and dispatch to the chosen mode."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from tui import flag_values
from tui.config import MAX_INTERVAL_S, MIN_INTERVAL_S, Config, Filters, Mode
from tui.errors import EXIT_FAILURE, EXIT_OK, UsageError
from tui.flags import build_parser
from tui.model.names import SLOT_COUNT, SyscallNames
from tui.model.sanitize import safe_text
from tui.settings import load_settings
from tui.system import CONTAINER_KINDS, UNIT_KINDS, resolve_cgroup, resolve_group


def fail(message: str, code: int) -> NoReturn:
    """Print one line on stderr and exit with `code`."""
    print(f"syscalltop: {message}", file=sys.stderr)
    raise SystemExit(code)


# Options that take text: given empty, each would silently mean "no filter" or "here".
TEXT_OPTIONS = {
    "pid": "-p",
    "tid": "-t",
    "comm": "--comm",
    "uid": "-u",
    "cgroup": "--cgroup",
    "container": "--container",
    "unit": "--unit",
    "seccomp_profile": "--seccomp-profile",
    "syscall": "--syscall",
    "errno": "-e",
    "prometheus": "--prometheus",
    "record": "--record",
    "replay": "--replay",
    "snapshot_dir": "--snapshot-dir",
}
MAX_SAMPLE_EVERY = 1 << 30
MAX_CAPTURE_RATE = 100_000
MAX_PERF_PAGES = 1 << 16  # 256 MiB per CPU; libbcc's page arithmetic is a C int


def _check_ranges(args: argparse.Namespace) -> None:
    for dest, option in TEXT_OPTIONS.items():
        value = getattr(args, dest)
        if value is not None and not value.strip():
            raise UsageError(f"empty {option}: leave it out for no {dest.replace('_', ' ')}")
    if not MIN_INTERVAL_S <= args.interval <= MAX_INTERVAL_S:
        raise UsageError(f"bad interval {args.interval}: use 0.1 to 3600 seconds")
    if args.duration is not None and args.duration <= 0:
        raise UsageError(f"bad duration {args.duration}: must be positive")
    if args.count is not None and args.count <= 0:
        raise UsageError(f"bad count {args.count}: must be at least 1")
    if args.top is not None and args.top <= 0:
        raise UsageError(f"bad --top {args.top}: must be at least 1")
    if not 1.0 <= args.sensitivity <= 100.0:
        raise UsageError(f"bad --sensitivity {args.sensitivity}: use 1 to 100")
    pages = args.perf_pages
    if not 1 <= pages <= MAX_PERF_PAGES or pages & (pages - 1):
        raise UsageError(f"bad --perf-pages {pages}: use a power of 2 from 1 to {MAX_PERF_PAGES}")
    if not 16 <= args.proc_map_size <= 1 << 20:
        raise UsageError(f"bad --proc-map-size {args.proc_map_size}: use 16 to 1048576")
    if not 16 <= args.hist_rows <= SLOT_COUNT:
        raise UsageError(f"bad --hist-rows {args.hist_rows}: use 16 to {SLOT_COUNT}")
    if args.record and args.replay:
        raise UsageError("--record and --replay do not go together")
    if not 0 <= args.slow <= 3_600_000:
        raise UsageError(f"bad --slow {args.slow}: use 0 (off) to 3600000 ms")
    if args.capture_rate > MAX_CAPTURE_RATE:
        raise UsageError(
            f"bad --capture-rate {args.capture_rate}: use 0 (off) to {MAX_CAPTURE_RATE}"
        )
    if not 0 <= args.prometheus_groups <= 1000:
        raise UsageError(f"bad --prometheus-groups {args.prometheus_groups}: use 0 to 1000")
    if args.sample > MAX_SAMPLE_EVERY:
        raise UsageError(f"bad --sample {args.sample}: use 0 (off) to {MAX_SAMPLE_EVERY}")


def config_from_args(args: argparse.Namespace, names: SyscallNames) -> Config:
    """Check every flag and return the Config; raise UsageError naming the first problem."""
    _check_ranges(args)
    listen = None
    if args.prometheus:
        from tui.export.prometheus import parse_listen

        try:
            listen = parse_listen(args.prometheus)
        except ValueError as error:
            raise UsageError(f"bad --prometheus {args.prometheus!r}: {error}") from None
    cgroup_id = cgroup_level = None
    cgroup_label = None
    chosen = [flag for flag in ("cgroup", "container", "unit") if getattr(args, flag)]
    if len(chosen) > 1:
        raise UsageError(f"--{chosen[0]} and --{chosen[1]} do not go together: choose one")
    if args.cgroup:
        cgroup_id, cgroup_level, cgroup_label = resolve_cgroup(args.cgroup)
    elif args.container:
        cgroup_id, cgroup_level, cgroup_label = resolve_group(
            args.container.strip(), CONTAINER_KINDS, "container"
        )
    elif args.unit:
        cgroup_id, cgroup_level, cgroup_label = resolve_group(args.unit.strip(), UNIT_KINDS, "unit")
    if args.seccomp_profile and not (args.pid or args.container or args.unit):
        raise UsageError("--seccomp-profile needs a target: -p PID, --container or --unit")
    # --json is a kind of --batch (README: --batch --json); the others exclude each other.
    modes = [flag for flag in ("events", "json", "quiet") if getattr(args, flag)]
    modes += ["batch"] if args.batch and not args.json else []
    if len(modes) > 1:
        raise UsageError(f"--{modes[0]} and --{modes[1]} do not go together: choose one")
    if args.snapshot_dir and not os.path.isdir(args.snapshot_dir):
        raise UsageError(f"no directory {args.snapshot_dir!r} for --snapshot-dir")
    if args.events:
        mode = Mode.EVENTS
    elif args.json:
        mode = Mode.BATCH_JSON
    elif args.batch or args.quiet:
        mode = Mode.BATCH_TEXT
    else:
        mode = Mode.DASHBOARD
    return Config(
        mode=mode,
        interval_s=args.interval,
        duration_s=args.duration,
        interval_count=args.count,
        top_n=args.top,
        level=args.level,
        # The counts tier reads no clock: no sampled or captured calls (their budgets are timed).
        sample_every=args.sample if args.level == "full" else 0,
        theme=args.theme,
        anomaly_sensitivity=args.sensitivity,
        record_path=args.record,
        prometheus_listen=listen,
        quiet=args.quiet,
        snapshot_dir=args.snapshot_dir,
        perf_pages=args.perf_pages,
        proc_map_entries=args.proc_map_size,
        hist_rows=args.hist_rows,
        replay_path=args.replay,
        force=args.force,
        keep_running=args.keep_running,
        capture_rate=args.capture_rate if args.level == "full" else 0,
        slow_ms=args.slow if args.level == "full" else 0,
        seccomp_profile=args.seccomp_profile,
        prometheus_groups=args.prometheus_groups,
        show_self=args.show_self,
        sort_key=getattr(args, "sort_column", None) or "rate",
        hidden_columns=getattr(args, "hidden_columns", ()),
        filters=Filters(
            pids=flag_values.int_list(args.pid, "pid") if args.pid else (),
            tids=flag_values.int_list(args.tid, "tid") if args.tid else (),
            comm=flag_values.comm(args.comm) if args.comm is not None else None,
            uid=flag_values.uid(args.uid) if args.uid else None,
            cgroup_id=cgroup_id,
            cgroup_level=cgroup_level,
            cgroup_label=cgroup_label,
            syscall_names=flag_values.syscall_names(args.syscall, names) if args.syscall else (),
            failures_only=args.failures,
            errno_value=flag_values.errno(args.errno.strip()) if args.errno else None,
        ),
    )


def list_syscalls(names: SyscallNames) -> int:
    """Print every syscall of this architecture, like syscount -l."""
    for number, name in names.all_native():
        print(f"{number:>4} {name}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run syscalltop; return the exit code."""
    names = SyscallNames()
    try:
        parser = build_parser()
        settings = load_settings()  # lasting defaults; the flags override them
        parser.set_defaults(
            **{
                key: value
                for key, value in (
                    ("theme", settings.theme),
                    ("interval", settings.interval),
                    ("sensitivity", settings.sensitivity),
                )
                if value is not None
            }
        )
        args = parser.parse_args(argv)
        args.sort_column = settings.sort
        args.hidden_columns = settings.hidden_columns
        if args.list:
            return list_syscalls(names)
        if args.version or args.doctor:
            from tui.doctor import run_doctor, version_text

            if args.version:
                print(version_text())
                return EXIT_OK
            return run_doctor()
        config = config_from_args(args, names)
        if args.ebpf:
            from tui.sources.program import build_program

            print(build_program(config, names).text)
            return EXIT_OK
        if args.prepare:
            return prepare(config, names)
        return run(config, names)
    except UsageError as error:
        fail(str(error), error.code)


def prepare(config: Config, names: SyscallNames) -> int:
    """Load the program `config` makes once, so its image is kept; say where, and exit."""
    from tui.session import open_live_source
    from tui.sources.program_cache import cache_dir

    directory = cache_dir()
    if directory is None:
        raise UsageError(
            "the program cache is off (SYSCALLTOP_PROGRAM_CACHE=off): nothing kept", EXIT_FAILURE
        )
    source = open_live_source(config, names)  # compiles, or loads what is kept already
    try:
        origin, not_kept = source.image_origin, source.image_not_kept
    finally:
        source.close()
    if not_kept:
        raise UsageError(f"compiled, but the image could not be kept: {not_kept}", EXIT_FAILURE)
    how = "compiled and kept" if origin == "compiled" else "already kept"
    print(f"syscalltop: program image {how} in {safe_text(str(directory))}")
    return EXIT_OK


# Each read builds tens of thousands of tuples under process churn, held until the next read
# (entries taken between reads): at Python's default (700) the collector ran a young pass
# every few hundred entries, and at 50,000 still 4 a second of 4 ms each (2% of a CPU at
# 1,500 processes a second; 0.1% at this one). The code makes few reference cycles.
GC_YOUNG_THRESHOLD = 400_000


def _settle_garbage_collector() -> None:
    """Leave what start-up built (modules, BPF tables) out of garbage-collector passes."""
    import gc

    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


def run(config: Config, names: SyscallNames) -> int:
    """Open the session the Config asks for and run its mode; always close it."""
    from tui.signals import StopRequest

    stop = StopRequest()
    stop.install()  # before loading anything: a stop during start-up is seen at once after it
    if config.mode is Mode.EVENTS:
        from tui.headless import run_events

        return run_events(config, names, stop)
    from tui.session import open_session
    from tui.signals import Stopped

    # The dashboard draws its first screen while BPF compiles (and reports a failure to start
    # as the other modes do, once the terminal is restored). Fds 1 and 2 go to a file while
    # BPF compiles, so it draws on a duplicate of the terminal's.
    background = config.mode is Mode.DASHBOARD and not config.replay_path
    terminal = os.fdopen(os.dup(2), "w", errors="backslashreplace") if background else None
    try:
        # A recording may come from a pipe that is slow to send, or never does.
        with stop.raising() if config.replay_path else contextlib.nullcontext():
            session = open_session(config, names, background=background)
    except Stopped:
        assert stop.exit_code is not None
        return stop.exit_code
    _settle_garbage_collector()
    try:
        if stop.exit_code is not None:
            return stop.exit_code
        if config.mode is Mode.DASHBOARD:
            from tui.app import run_dashboard

            return run_dashboard(session, stop, terminal)
        from tui.headless import run_batch

        return run_batch(session, stop)
    finally:
        session.close()
        if terminal is not None:
            terminal.close()
