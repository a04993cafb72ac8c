"""Command line: parse flags into a Config, check them, and run the chosen mode."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from tui import __version__
from tui.config import DEFAULT_SAMPLE_EVERY, Config, Filters, Mode
from tui.model.names import SyscallNames, errno_value

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2  # bad flags or input, or a missing prerequisite such as kernel headers
EXIT_NO_PRIVILEGE = 3  # lacks CAP_BPF+CAP_PERFMON (or CAP_SYS_ADMIN)
EXIT_BPF_FAILED = 4  # the program did not compile, load or attach

CAP_SYS_ADMIN = 21
CAP_PERFMON = 38
CAP_BPF = 39


class UsageError(Exception):
    """Bad input: the message is the one line the user sees."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


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


def _resolve_uid(text: str) -> int:
    if text.isdigit():
        return int(text)
    import pwd

    try:
        return pwd.getpwnam(text).pw_uid
    except KeyError:
        raise UsageError(f"unknown user {text!r}") from None


def cgroup2_root(mounts_path: str = "/proc/self/mounts") -> Path:
    """Return where the cgroup v2 hierarchy is mounted (unified or hybrid layouts)."""
    with open(mounts_path) as mounts:
        for line in mounts:
            fields = line.split()
            if len(fields) > 2 and fields[2] == "cgroup2":
                return Path(fields[1])
    raise UsageError("no cgroup v2 hierarchy is mounted; --cgroup needs one")


def resolve_cgroup(text: str, root: Path | None = None) -> tuple[int, int, str]:
    """Return (id, level, label) of a cgroup v2 given as a path or an id."""
    root = root or cgroup2_root()
    if text.isdigit():
        wanted = int(text)
        for dirpath, _, _ in os.walk(root):
            if os.stat(dirpath).st_ino == wanted:
                return wanted, _cgroup_level(Path(dirpath), root), text
        raise UsageError(f"no cgroup v2 with id {wanted} under {root}")
    path = Path(text)
    if not path.is_absolute() or (root not in path.parents and path != root):
        path = root / text.lstrip("/")
    if not path.is_dir():
        raise UsageError(f"no cgroup v2 directory {text!r} (looked at {path})")
    return os.stat(path).st_ino, _cgroup_level(path, root), str(path.relative_to(root) or "/")


def _cgroup_level(path: Path, root: Path) -> int:
    relative = path.resolve().relative_to(root.resolve())
    return len(relative.parts)


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
            uid=_resolve_uid(args.uid) if args.uid else None,
            cgroup_id=cgroup_id,
            cgroup_level=cgroup_level,
            cgroup_label=cgroup_label,
            syscall_names=syscall_names,
            failures_only=args.failures,
            errno_value=errno_number,
        ),
    )


def effective_capabilities(status_path: str = "/proc/self/status") -> int:
    """Return the effective capability mask of this process."""
    with open(status_path) as status:
        for line in status:
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    return 0


def can_load_bpf(mask: int | None = None) -> bool:
    """Return True with CAP_SYS_ADMIN, or with both CAP_BPF and CAP_PERFMON."""
    mask = effective_capabilities() if mask is None else mask

    def has(cap: int) -> bool:
        return bool(mask & (1 << cap))

    return has(CAP_SYS_ADMIN) or (has(CAP_BPF) and has(CAP_PERFMON))


# The initial pid namespace's inode number is fixed by the kernel (PROC_PID_INIT_INO).
HOST_PID_NAMESPACE_INODE = 0xEFFFFFFC


def in_host_pid_namespace(ns_path: str = "/proc/self/ns/pid") -> bool:
    """Return True when this process sees the host's pids, as BPF reports them."""
    try:
        return os.stat(ns_path).st_ino == HOST_PID_NAMESPACE_INODE
    except OSError:
        return True  # no /proc/self/ns (very old kernel, odd mount): assume the host's


def _install_signal_exits(*extra: signal.Signals) -> None:
    """Turn SIGTERM and SIGHUP (and `extra`) into a normal exit with code 128 + signal.

    Programs detach and output flushes on the way out. The dashboard adds SIGINT: its
    terminal is in raw mode, so a SIGINT comes from outside and means stop (exit 130).
    """

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGHUP, *extra):
        signal.signal(signum, stop)


def open_live_source(  # type: ignore[no-untyped-def]
    config: Config, names: SyscallNames, keep_every_sample: bool = False
):
    """Start the BCC source, turning each set-up failure into one line and an exit code."""
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
        from tui.sources.bcc_source import BccSource, BpfLoadFailed
    except ImportError as error:
        raise UsageError(
            f"bcc's Python bindings are missing ({error}); install python3-bpfcc "
            "(make setup does) and use the distro's python3"
        ) from None
    from tui.sources.kernel_headers import HeadersMissing

    source = BccSource(config, names, None) if keep_every_sample else BccSource(config, names)
    try:
        source.start()
    except HeadersMissing as error:
        source.close()
        raise UsageError(str(error)) from None
    except BpfLoadFailed as error:
        source.close()
        raise UsageError(str(error), EXIT_BPF_FAILED) from None
    return source


def open_replay(path: str):  # type: ignore[no-untyped-def]
    """Load a recording for replay; damage is one warning line, the readable part replays."""
    from tui.sources.recording import RecordingError, ReplaySource, load_recording

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
    import socket

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


def open_recorder(config: Config, names: SyscallNames):  # type: ignore[no-untyped-def]
    """Create the recording file, or return None without --record."""
    if not config.record_path:
        return None
    from tui.sources.recording import Recorder, RecordingError

    try:
        return Recorder(
            Path(config.record_path), recording_header(config, names), force=config.force
        )
    except RecordingError as error:
        raise UsageError(str(error)) from None


def start_metrics(config: Config, names: SyscallNames):  # type: ignore[no-untyped-def]
    """Serve Prometheus metrics when asked; the port is taken before any BPF is loaded."""
    if config.prometheus_listen is None:
        return None
    from tui.export.prometheus import SyscallMetrics, serve

    metrics = SyscallMetrics(names)
    try:
        serve(metrics, config.prometheus_listen)
    except OSError as error:
        address, port = config.prometheus_listen
        raise UsageError(f"cannot serve metrics on {address}:{port}: {error.strerror}") from None
    return metrics


def run_batch(config: Config, names: SyscallNames) -> int:
    """Print one table or JSON line per interval until -n/-d or a signal."""
    from tui.collector import paced_readings
    from tui.export.batch import json_line, text_table
    from tui.model.anomaly import AnomalySettings
    from tui.model.snapshot import SnapshotStream
    from tui.procinfo import ProcessInfo
    from tui.sources.recording import CapturingDescribe

    settings = AnomalySettings(deviations=config.anomaly_sensitivity)
    capture = CapturingDescribe(ProcessInfo().describe)
    recorder = None
    if config.replay_path:
        replay = open_replay(config.replay_path)
        source = replay
        stream = SnapshotStream(names, replay.describe, settings)
        # Lazily, so each push sees the identities recorded with its own reading.
        readings = (replay.read() for _ in replay.recording.frames)
    else:
        recorder = open_recorder(config, names)  # before loading BPF: bad paths fail fast
        source = open_live_source(config, names)
        stream = SnapshotStream(names, capture, settings)
        readings = paced_readings(source, lambda: config.interval_s, threading.Event())
    metrics = start_metrics(config, names)
    limit = config.max_intervals
    printed = 0
    try:
        for reading in readings:
            snapshot = stream.push(reading)
            identities = capture.take()  # always: what it remembers is only for this interval
            if recorder is not None:
                recorder.record(reading, identities)
            if metrics is not None:
                metrics.update(reading, snapshot)
            if snapshot is None:
                continue
            if config.quiet:
                pass
            elif config.mode is Mode.BATCH_JSON:
                sys.stdout.write(json_line(snapshot, config.top_n) + "\n")
            else:
                sys.stdout.write(text_table(snapshot, config.top_n) + "\n")
            sys.stdout.flush()
            printed += 1
            if limit is not None and printed >= limit:
                break
    except KeyboardInterrupt:
        pass
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, as other filters do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        if recorder is not None:
            recorder.close()
        source.close()
    return EXIT_OK


def run_events(config: Config, names: SyscallNames) -> int:
    """Stream every sampled call as Tracee-style JSON until -n/-d or a signal."""
    import psutil

    from tui.collector import paced_readings
    from tui.export.events import event_lines, monotonic_to_epoch_offset_ns

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
    lost_before = 0
    try:
        for count, reading in enumerate(
            paced_readings(source, lambda: config.interval_s, threading.Event())
        ):
            for line in event_lines(reading.samples, names, parent_of, offset):
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
    except KeyboardInterrupt:
        pass
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    finally:
        source.close()
    return EXIT_OK


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
        if config.mode is Mode.DASHBOARD:
            from tui.app import run_dashboard

            _install_signal_exits(signal.SIGINT)
            return run_dashboard(config, names)
        _install_signal_exits()
        if config.mode is Mode.EVENTS:
            return run_events(config, names)
        return run_batch(config, names)
    except UsageError as error:
        fail(str(error), error.code)
