"""The command line's flags: names follow bcc's syscount where it has them."""

from __future__ import annotations

import argparse
import math
import re
from typing import NoReturn

from tui.config import DEFAULT_CAPTURE_RATE, DEFAULT_SAMPLE_EVERY, DEFAULT_SLOW_MS
from tui.errors import EXIT_USAGE, UsageError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see syscalltop --help)", EXIT_USAGE)


# Plain ASCII decimals, as the whole-number flags take them: no spaces, underscores, plus
# signs or other scripts' digits (float() takes all of those); a minus is left to the ranges.
_DECIMAL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def number(text: str) -> float:
    """A finite number of seconds or a threshold: plain decimals, no nan, no inf."""
    if text.strip().lstrip("+-").lower() in ("nan", "inf", "infinity"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    if not _DECIMAL.fullmatch(text) or not math.isfinite(value := float(text)):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number")
    return value


def whole(text: str) -> int:
    """A whole number written as plain digits (no signs, spaces or underscores)."""
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser; flag names follow bcc's syscount where it has them."""
    parser = _Parser(
        prog="syscalltop",
        description="Live view of the system calls processes make, through eBPF.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="""examples:
  sudo syscalltop                          the dashboard (press ? for its keys)
  sudo syscalltop -p 1234 -x               one process, failed calls only
  sudo syscalltop --container 4f2c1d9e8b7a containers by id; --unit nginx.service
  sudo syscalltop --json -i 5 -n 12        a minute of JSON lines
  sudo syscalltop --quiet --prometheus 127.0.0.1:9545   a Prometheus exporter
  sudo syscalltop --record run.jsonl       keep every reading; --replay it anywhere
  sudo syscalltop --doctor                 what this machine lacks, and the fix

exit codes: 0 ok, 1 failure, 2 bad input or missing kernel headers, 3 not privileged,
4 BPF load failure, 129/130/143 SIGHUP (or a lost terminal) / SIGINT / SIGTERM""",
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
    mode.add_argument(
        "--version",
        action="store_true",
        help="print the version, bcc's version, the kernel and whether it has BTF",
    )
    mode.add_argument(
        "--doctor",
        action="store_true",
        help="check this machine (privileges, bcc, headers, BTF, tracefs, cgroup v2) and exit",
    )
    mode.add_argument(
        "--prepare",
        action="store_true",
        help="compile the BPF program these flags load, keep its image for later starts and "
        "exit (make install does it for both levels; exit 1 if it cannot be kept)",
    )
    timing = parser.add_argument_group("timing")
    timing.add_argument(
        "-i",
        "--interval",
        type=number,
        default=1.0,
        metavar="S",
        help="seconds between updates (default 1)",
    )
    timing.add_argument("-d", "--duration", type=number, metavar="S", help="stop after S seconds")
    timing.add_argument("-n", "--count", type=whole, metavar="K", help="stop after K intervals")
    timing.add_argument(
        "-T",
        "--top",
        type=whole,
        metavar="N",
        help="rows to show (batch text default 10; JSON default all)",
    )
    timing.add_argument(
        "--sample",
        type=whole,
        default=DEFAULT_SAMPLE_EVERY,
        metavar="N",
        help=f"sample 1 in N calls with arguments (0 off, default {DEFAULT_SAMPLE_EVERY})",
    )
    timing.add_argument(
        "--level",
        choices=("full", "counts"),
        default="full",
        help="full: counts, errors, latency, in-flight threads and captured calls (default); "
        "counts: one exit-side program with no clock read, exact counts, errors and errnos "
        "only (the cheapest; no latency, no in-flight list, no events, exit calls not seen)",
    )
    explain = parser.add_argument_group("explaining calls (paths, addresses, slow calls)")
    explain.add_argument(
        "--slow",
        type=number,
        default=DEFAULT_SLOW_MS,
        metavar="MS",
        help="capture every call slower than MS with its arguments "
        f"(0 off, default {DEFAULT_SLOW_MS:g})",
    )
    explain.add_argument(
        "--capture-rate",
        type=whole,
        default=DEFAULT_CAPTURE_RATE,
        metavar="N",
        help="capture failing, slow and first-seen calls, at most N a second per syscall and "
        f"CPU; the rest are counted (0 off, default {DEFAULT_CAPTURE_RATE})",
    )
    filters = parser.add_argument_group("filters (applied in the kernel)")
    filters.add_argument("-p", "--pid", metavar="PID[,PID]", help="only these processes")
    filters.add_argument("-t", "--tid", metavar="TID[,TID]", help="only these threads")
    filters.add_argument("--comm", metavar="NAME", help="only tasks whose comm is NAME")
    filters.add_argument("-u", "--uid", metavar="UID|USER", help="only this user")
    filters.add_argument("--cgroup", metavar="PATH|ID", help="only tasks in this cgroup v2")
    filters.add_argument(
        "--container",
        metavar="ID|NAME",
        help="only this container (Docker, Podman, containerd, CRI-O, LXC; id or id prefix)",
    )
    filters.add_argument(
        "--unit", metavar="NAME", help="only this systemd unit (nginx.service, a .scope, a .slice)"
    )
    filters.add_argument(
        "--seccomp-profile",
        metavar="FILE",
        help="with -p, --container or --unit: at exit, write an OCI seccomp profile of every "
        "syscall the target made",
    )
    filters.add_argument("--syscall", metavar="NAME[,NAME]", help="only these syscalls")
    filters.add_argument("-x", "--failures", action="store_true", help="only failed calls")
    filters.add_argument("-e", "--errno", metavar="NAME", help="only calls failing with NAME")
    filters.add_argument(
        "--keep-running",
        action="store_true",
        help="with -p/-t in batch and events modes: go on after every target has exited",
    )
    fleet = parser.add_argument_group("metrics")
    fleet.add_argument(
        "--prometheus",
        metavar="[ADDR:]PORT",
        help="serve Prometheus metrics on /metrics (address default 127.0.0.1)",
    )
    fleet.add_argument(
        "--prometheus-groups",
        type=whole,
        default=10,
        metavar="K",
        help='containers/units with series of their own (the rest sum into "other"; default 10)',
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
        type=whole,
        default=64,
        metavar="N",
        help="perf buffer pages per CPU for samples (power of 2, default 64)",
    )
    tune.add_argument(
        "--proc-map-size",
        type=whole,
        default=65536,
        metavar="N",
        help="(process, syscall) pairs kept in the kernel (default 65536)",
    )
    tune.add_argument(
        "--hist-rows",
        type=whole,
        default=128,
        metavar="N",
        help="syscalls given a latency histogram, 2 KiB per CPU each, handed out as they are "
        "first seen (16 to 1025, default 128); later ones have counts and errors only",
    )
    look = parser.add_argument_group("display")
    look.add_argument("--theme", choices=("dark", "light"), default="dark", help="colour theme")
    look.add_argument(
        "--show-self",
        action="store_true",
        help="count syscalltop's own calls and show the man-page look-ups it runs (hidden)",
    )
    look.add_argument(
        "--sensitivity",
        type=number,
        default=6.0,
        metavar="K",
        help="anomaly threshold in deviations from baseline (default 6; lower flags more)",
    )
    return parser
