"""`make bench` (precision part): syscalltop's latency percentiles against the truth.

The workload sleeps 600 x 0.5 ms and 300 x 10 ms and times each clock_nanosleep with its own
clock; syscalltop (the default program, filtered to the workload's pid) reads the interval.
The table gives truth, syscalltop's figure and the error for p50, p95, p99 and max, and what
log2 buckets alone would say (the figures before the fine histograms).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

from tests.bench import publish

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "precision.md"

# Each line on stdin is a phase: a list of sleep lengths in seconds. The workload sleeps
# them and prints how long each clock_nanosleep took by its own clock, in ns.
SLEEPER = """
import json, sys, time
for line in sys.stdin:
    took = []
    for seconds in json.loads(line):
        start = time.monotonic_ns()
        time.sleep(seconds)
        took.append(time.monotonic_ns() - start)
    print(json.dumps(took), flush=True)
"""
SLEEPS = [0.0005] * 600 + [0.010] * 300


class Sleeper:
    """A process that sleeps what it is told, phase by phase, and says how long it took."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", SLEEPER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def phase(self, seconds: list[float]) -> list[int]:
        """Sleep each of `seconds`; return each call's duration by the workload's clock."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(seconds) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self) -> None:
        """End the workload (the process this object started)."""
        self.process.kill()
        self.process.wait(10)


def rank(ordered: list[int], fraction: float) -> int:
    """Return the value at a percentile's rank (nearest rank, as the model counts)."""
    return ordered[math.ceil(len(ordered) * fraction) - 1]


def main() -> int:
    from tui.config import Config, Filters
    from tui.model.histogram import LatencySummary
    from tui.model.names import SyscallNames
    from tui.model.snapshot import build_snapshot
    from tui.sources.bcc_source import BccSource

    names = SyscallNames()
    sleeper = Sleeper()
    source = BccSource(Config(filters=Filters(pids=(sleeper.process.pid,))), names)
    try:
        source.start()
        before = source.read()
        took = sleeper.phase(SLEEPS)
        after = source.read()
    finally:
        source.close()
        sleeper.close()
    row = next(
        r for r in build_snapshot(before, after, names).syscalls if r.name == "clock_nanosleep"
    )
    log2_only = LatencySummary.from_hist(row.hist, 0, row.latency.max_ns)
    ordered = sorted(took)
    lines = [
        f"{len(took)} clock_nanosleep calls (600 x 0.5 ms, 300 x 10 ms); truth from the "
        "workload's own clock (it also counts the wake-up after each call).",
        "",
        "| figure | truth | syscalltop | error | log2 buckets alone | error |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    worst = 0.0
    for label, fraction, attribute in (
        ("p50", 0.50, "p50_ns"),
        ("p95", 0.95, "p95_ns"),
        ("p99", 0.99, "p99_ns"),
        ("max", 1.0, "max_ns"),
    ):
        truth = rank(ordered, fraction)
        ours = getattr(row.latency, attribute)
        coarse = getattr(log2_only, attribute)
        error = 100.0 * (ours - truth) / truth
        worst = max(worst, abs(error))
        lines.append(
            f"| {label} | {truth / 1e6:.3f} ms | {ours / 1e6:.3f} ms | {error:+.1f}% "
            f"| {coarse / 1e6:.3f} ms | {100.0 * (coarse - truth) / truth:+.1f}% |"
        )
    lines.append("")
    lines.append(f"Worst error {worst:.1f}% (promised: within 10%).")
    publish(lines, RESULTS)
    return 0 if worst <= 10.0 else 1


if __name__ == "__main__":
    sys.exit(main())
