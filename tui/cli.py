"""Command line: parse flags into a Config, check them, and dispatch to the chosen mode."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from tui import __version__
from tui.config import DEFAULT_SAMPLE_EVERY, Config, Filters, Mode
from tui.errors import EXIT_OK, EXIT_USAGE, UsageError
from tui.model.names import SyscallNames, errno_value
from tui.system import resolve_cgroup, resolve_uid


def fail(message: str, code: int) -> NoReturn:
    """Print one line on stderr and exit with `code`."""
    print(f"syscalltop: {message}", file=sys.stderr)
    raise SystemExit(code)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        fail(f"{message} (see syscalltop --help)", EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser; flag names follow bcc's syscount where it has them."""
    parser = _Parser(
        prog="syscalltop",
        description="Live view of the system calls processes make, through eBPF.",
        epilog="Keys in the dashboard: press ? for help. Exit codes: 0 ok, 1 failure, "
        "2 bad input or missing kernel headers, 3 not privileged, 4 BPF load failure.",
    )
    mode = parser.add_argument_group("mode")
    mode.add_argument("--batch", action="store_true", help="print a text table every interval")
    mode.add_argument("--json", action="store_true", help="print one JSON object per interval")
    mode.add_argument(
        "--events",
        action="store_true",
        help="print sampled calls as Tracee-style sys_enter/sys_exit JSON lines",
    )
    mode.add_argument("-l", "--list", action="store_true", help="list syscall names and exit")
    mode.add_argument("--ebpf", action="store_true", help="print the BPF program and exit")
    mode.add_argument("--version", action="version", version=f"syscalltop {__version__}")
    timing = parser.add_argument_group("timing")
    timing.add_argument(
        "-i",
        "--interval",
        type=float,
        default=1.0,
        metavar="S",
        help="seconds between updates (default 1)",
    )
    timing.add_argument("-d", "--duration", type=float, metavar="S", help="stop after S seconds")
    timing.add_argument("-n", "--count", type=int, metavar="K", help="stop after K intervals")
    timing.add_argument(
        "-T",
        "--top",
        type=int,
        metavar="N",
        help="rows to show (batch text default 10; JSON default all)",
    )
    timing.add_argument(
        "--sample",
        type=int,
        default=DEFAULT_SAMPLE_EVERY,
        metavar="N",
        help=f"sample 1 in N calls with arguments (0 off, default {DEFAULT_SAMPLE_EVERY})",
    )
    filters = parser.add_argument_group("filters (applied in the kernel)")
    filters.add_argument("-p", "--pid", metavar="PID[,PID]", help="only these processes")
    filters.add_argument("-t", "--tid", metavar="TID[,TID]", help="only these threads")
    filters.add_argument("--comm", metavar="NAME", help="only tasks whose comm is NAME")
    filters.add_argument("-u", "--uid", metavar="UID|USER", help="only this user")
    filters.add_argument("--cgroup", metavar="PATH|ID", help="only tasks in this cgroup v2")
    filters.add_argument("--syscall", metavar="NAME[,NAME]", help="only these syscalls")
    filters.add_argument("-x", "--failures", action="store_true", help="only failed calls")
    filters.add_argument("-e", "--errno", metavar="NAME", help="only calls failing with NAME")
    fleet = parser.add_argument_group("metrics")
    fleet.add_argument(
        "--prometheus",
        metavar="[ADDR:]PORT",
        help="serve Prometheus metrics on /metrics (address default 127.0.0.1)",
    )
    fleet.add_argument(
        "--quiet",
        action="store_true",
        help="headless and silent: collect (and serve/record) without output",
    )
    keep = parser.add_argument_group("record and replay")
    keep.add_argument("--record", metavar="FILE", help="write every reading to FILE (JSON lines)")
    keep.add_argument("--replay", metavar="FILE", help="show a recording instead of the kernel")
    keep.add_argument(
        "--force",
        action="store_true",
        help="let --record overwrite FILE or write into a world-writable dir",
    )
    keep.add_argument(
        "--snapshot-dir",
        metavar="DIR",
        default=".",
        help="where the S key saves the view as JSON and SVG (default .)",
    )
    tune = parser.add_argument_group("sizes (memory and loss trade-offs)")
    tune.add_argument(
        "--perf-pages",
        type=int,
        default=64,
        metavar="N",
        help="perf buffer pages per CPU for samples (power of 2, default 64)",
    )
    tune.add_argument(
        "--proc-map-size",
        type=int,
        default=65536,
        metavar="N",
        help="(process, syscall) pairs kept in the kernel (default 65536)",
    )
    look = parser.add_argument_group("display")
    look.add_argument("--theme", choices=("dark", "light"), default="dark", help="colour theme")
    look.add_argument(
        "--sensitivity",
        type=float,
        default=6.0,
        metavar="K",
        help="anomaly threshold in deviations from baseline (default 6; lower flags more)",
    )
    return parser


def _int_list(text: str, what: str) -> tuple[int, ...]:
    values: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit() or int(part) <= 0:
            raise UsageError(f"bad {what} {part!r}: expected positive numbers separated by commas")
        values.append(int(part))
    return tuple(values)


def config_from_args(args: argparse.Namespace, names: SyscallNames) -> Config:
    """Check every flag and return the Config; raise UsageError naming the first problem."""
    if not 0.1 <= args.interval <= 3600:
        raise UsageError(f"bad interval {args.interval}: use 0.1 to 3600 seconds")
    if args.duration is not None and args.duration <= 0:
        raise UsageError(f"bad duration {args.duration}: must be positive")
    if args.count is not None and args.count <= 0:
        raise UsageError(f"bad count {args.count}: must be at least 1")
    if args.top is not None and args.top <= 0:
        raise UsageError(f"bad --top {args.top}: must be at least 1")
    if not 1.0 <= args.sensitivity <= 100.0:
        raise UsageError(f"bad --sensitivity {args.sensitivity}: use 1 to 100")
    listen = None
    if args.prometheus:
        from tui.export.prometheus import parse_listen

        try:
            listen = parse_listen(args.prometheus)
        except ValueError:
            raise UsageError(f"bad --prometheus {args.prometheus!r}: use [ADDR:]PORT") from None
    if args.perf_pages < 1 or args.perf_pages & (args.perf_pages - 1):
        raise UsageError(f"bad --perf-pages {args.perf_pages}: use a power of 2 (1, 2, 4, ...)")
    if not 16 <= args.proc_map_size <= 1 << 20:
        raise UsageError(f"bad --proc-map-size {args.proc_map_size}: use 16 to 1048576")
    if args.record and args.replay:
        raise UsageError("--record and --replay do not go together")
    if args.sample < 0:
        raise UsageError(f"bad --sample {args.sample}: use 0 (off) or N >= 1")

    pids = _int_list(args.pid, "pid") if args.pid else ()
    for pid in pids:
        if not os.path.exists(f"/proc/{pid}"):
            raise UsageError(f"no process with pid {pid}")
    tids = _int_list(args.tid, "tid") if args.tid else ()
    for tid in tids:
        if not os.path.exists(f"/proc/{tid}"):
            raise UsageError(f"no thread with tid {tid}")
    syscall_names: tuple[str, ...] = ()
    if args.syscall:
        syscall_names = tuple(name.strip() for name in args.syscall.split(",") if name.strip())
        for name in syscall_names:
            if not names.known(name):
                raise UsageError(
                    f"unknown syscall {name!r} for {names.arch} (see syscalltop --list)"
                )
    errno_number = None
    if args.errno:
        try:
            errno_number = int(args.errno) if args.errno.isdigit() else errno_value(args.errno)
        except KeyError:
            raise UsageError(f"unknown errno {args.errno!r} (e.g. ENOENT, EAGAIN)") from None
    comm = None
    if args.comm is not None:
        if not args.comm:
            raise UsageError("empty --comm")
        # The kernel keeps 15 bytes of a task name; match what it can hold.
        comm = args.comm.encode("utf-8")[:15].decode("utf-8", "ignore")
    cgroup_id = cgroup_level = None
    cgroup_label = None
    if args.cgroup:
        cgroup_id, cgroup_level, cgroup_label = resolve_cgroup(args.cgroup)

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
        sample_every=args.sample,
        theme=args.theme,
        anomaly_sensitivity=args.sensitivity,
        record_path=args.record,
        prometheus_listen=listen,
        quiet=args.quiet,
        snapshot_dir=args.snapshot_dir,
        perf_pages=args.perf_pages,
        proc_map_entries=args.proc_map_size,
        replay_path=args.replay,
        force=args.force,
        filters=Filters(
            pids=pids,
            tids=tids,
            comm=comm,
            uid=resolve_uid(args.uid) if args.uid else None,
            cgroup_id=cgroup_id,
            cgroup_level=cgroup_level,
            cgroup_label=cgroup_label,
            syscall_names=syscall_names,
            failures_only=args.failures,
            errno_value=errno_number,
        ),
    )


def list_syscalls(names: SyscallNames) -> int:
    """Print every syscall of this architecture, like syscount -l."""
    for number, name in names.all_native():
        print(f"{number:>4} {name}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run syscalltop; return the exit code."""
    args = build_parser().parse_args(argv)
    names = SyscallNames()
    try:
        if args.list:
            return list_syscalls(names)
        config = config_from_args(args, names)
        if args.ebpf:
            from tui.sources.program import build_program

            print(build_program(config, names).text)
            return EXIT_OK
        return run(config, names)
    except UsageError as error:
        fail(str(error), error.code)


def run(config: Config, names: SyscallNames) -> int:
    """Open the session the Config asks for and run its mode; always close it."""
    from tui.signals import StopRequest

    stop = StopRequest()
    stop.install()  # before loading anything: a stop during start-up is seen at once after it
    if config.mode is Mode.EVENTS:
        from tui.headless import run_events

        return run_events(config, names, stop)
    from tui.session import open_session

    session = open_session(config, names)
    try:
        if stop.exit_code is not None:
            return stop.exit_code
        if config.mode is Mode.DASHBOARD:
            from tui.app import run_dashboard

            return run_dashboard(session, stop)
        from tui.headless import run_batch

        return run_batch(session, stop)
    finally:
        session.close()
