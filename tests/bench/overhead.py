"""`make bench`: kernel overhead per syscall of our program vs empty programs and syscount.

Two loops are timed: getppid (the hot path, nothing to explain) and openat of a missing path
(every call fails, so every call is a capture candidate and the budget decides). Each runs
with nothing attached, with two empty raw_tp programs, with syscalltop's default program
(captures on, collector running), with captures off, with the counts tier (--level counts),
and with bcc's syscount and syscount -L. Variants alternate round by round so drift and
noise hit them all alike; the table reports medians and ratios of overhead (ns/call above
the bare loop) to the empty-program floor.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench import publish

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
RESULTS = HERE / "results" / "overhead.md"
VARIANTS = (
    "baseline",
    "empty",
    "ours",
    "ours, no captures",
    "ours, counts tier",
    "syscount",
    "syscount -L",
)
LOOPS = {"getppid": "getppid_loop.c", "failing openat": "openat_fail_loop.c"}
SYSCOUNT = "/usr/sbin/syscount-bpfcc"


def ensure_tracefs() -> None:
    """syscount uses tracefs tracepoints (syscalltop does not): mount it when it is missing."""
    if Path("/sys/kernel/debug/tracing/events").is_dir():
        return
    subprocess.run(
        ["mount", "-t", "debugfs", "none", "/sys/kernel/debug"], check=False, capture_output=True
    )
    if not Path("/sys/kernel/debug/tracing/events").is_dir():
        subprocess.run(
            ["mount", "-t", "tracefs", "none", "/sys/kernel/tracing"],
            check=False,
            capture_output=True,
        )


def build_loop(workdir: Path, source: str = "getppid_loop.c") -> list[str]:
    """Return the command of a timed loop: compiled C when a compiler exists, else Python."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler:
        binary = workdir / Path(source).stem
        subprocess.run([compiler, "-O2", "-o", str(binary), str(HERE / source)], check=True)
        return [str(binary)]
    script = (
        "import os,sys,time\nn=int(sys.argv[1])\nt=time.perf_counter_ns()\n"
        "for _ in range(n): os.getppid()\nprint((time.perf_counter_ns()-t)/n)"
    )
    return [sys.executable, "-c", script]


def time_loop(loop: list[str], calls: int) -> float:
    pin = ["taskset", "-c", str(os.cpu_count() - 1)] if shutil.which("taskset") else []
    output = subprocess.run([*pin, *loop, str(calls)], capture_output=True, text=True, check=True)
    return float(output.stdout.strip())


class Attached:
    """A running attacher process for one variant."""

    def __init__(self, variant: str, env: dict[str, str]) -> None:
        self.variant = variant
        self.report: dict[str, float] = {}
        if variant == "baseline":
            self.process = None
            return
        # Attachers run on CPU 0, the timed loop on the last CPU: user space stays out of the way.
        pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
        if variant.startswith("syscount"):
            command = [*pin, sys.executable, SYSCOUNT, "-i", "1", *variant.split()[1:]]
            ready = "Tracing"
        else:
            command = [*pin, sys.executable, "-m", "tests.bench.attach", variant]
            ready = "attached"
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=REPO,
            env=env,
        )
        assert self.process.stdout is not None
        while True:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError(f"{variant} did not attach")
            if ready in line:
                break
        time.sleep(0.3)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.variant.startswith("syscount"):
            self.process.send_signal(2)
            self.process.communicate(timeout=30)
            return
        stdout, _ = self.process.communicate("\n", timeout=30)
        for line in stdout.splitlines():
            if line.startswith("{"):
                self.report = json.loads(line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=3, help="timed loops per variant per round")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench: needs root to load BPF programs", file=sys.stderr)
        return 2
    from tui.sources.kernel_headers import locate_headers

    ensure_tracefs()
    env = {**os.environ, "BCC_KERNEL_SOURCE": str(locate_headers().path), "PYTHONPATH": str(REPO)}
    variants = [v for v in VARIANTS if not v.startswith("syscount") or Path(SYSCOUNT).exists()]
    samples: dict[tuple[str, str], list[float]] = {
        (loop, variant): [] for loop in LOOPS for variant in variants
    }
    reports: dict[str, list[dict[str, float]]] = {variant: [] for variant in variants}
    with tempfile.TemporaryDirectory() as workdir:
        loops = {name: build_loop(Path(workdir), source) for name, source in LOOPS.items()}
        for round_index in range(args.rounds):
            for variant in variants:
                attached = Attached(variant, env)
                try:
                    for _ in range(args.runs):
                        for name, loop in loops.items():
                            samples[(name, variant)].append(time_loop(loop, args.calls))
                finally:
                    attached.stop()
                if attached.report:
                    reports[variant].append(attached.report)
            print(f"round {round_index + 1}/{args.rounds} done", file=sys.stderr)

    lines = [
        f"{args.calls:,} calls x {args.runs} runs x {args.rounds} rounds per loop, variants "
        f"alternating; medians (spread: min-max of the per-round medians). "
        f"Kernel {os.uname().release}, {os.cpu_count()} CPUs.",
    ]
    for name in LOOPS:
        base = statistics.median(samples[(name, "baseline")])
        floor = statistics.median(samples[(name, "empty")]) - base
        lines += [
            "",
            f"**{name} loop**",
            "",
            "| variant | ns/call | overhead ns/call | x empty programs | spread |",
            "|---|---:|---:|---:|---:|",
        ]
        for variant in variants:
            values = samples[(name, variant)]
            median = statistics.median(values)
            overhead = median - base
            per_round = [
                statistics.median(values[i : i + args.runs]) - base
                for i in range(0, len(values), args.runs)
            ]
            ratio = spread = "-"
            if variant != "baseline":
                ratio = f"{overhead / floor:.2f}x"
                spread = f"{min(per_round) / floor:.2f}-{max(per_round) / floor:.2f}x"
            lines.append(f"| {variant} | {median:.1f} | {overhead:.1f} | {ratio} | {spread} |")
    ours = reports.get("ours") or []
    if ours:
        lines += [
            "",
            f"syscalltop collector (1 s interval, under this load): "
            f"{statistics.median(r['cpu_pct'] for r in ours):.2f}% of one CPU, "
            f"attach {statistics.median(r['attach_s'] for r in ours):.2f} s, "
            f"max RSS {max(r['max_rss_mb'] for r in ours):.0f} MB.",
        ]
    publish(lines, RESULTS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
