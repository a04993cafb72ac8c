"""`make bench` (real-server part): redis-benchmark SET/GET throughput with each tool attached.

A redis-server of our own (a free loopback port, no persistence, its pid recorded) serves
redis-benchmark while nothing, syscalltop's full tier, its counts tier, syscount and
syscount -L are attached in turn, round by round (so drift hits them all alike). The table
gives median requests per second and the cost against nothing attached.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench import publish
from tests.bench.overhead import REPO, SYSCOUNT, Attached, ensure_tracefs

RESULTS = Path(__file__).resolve().parent / "results" / "redis.md"
VARIANTS = ("nothing", "ours", "ours, counts tier", "syscount", "syscount -L")
TESTS = ("SET", "GET")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pinned(cpu: int) -> list[str]:
    """A taskset prefix for `cpu`, or nothing on a one-CPU machine or without taskset."""
    if (os.cpu_count() or 1) < 2 or shutil.which("taskset") is None:
        return []
    return ["taskset", "-c", str(cpu)]


def start_redis(port: int, workdir: Path) -> subprocess.Popen[bytes]:
    """Start our own redis-server (no persistence) and wait until it answers."""
    # The server has the last CPU to itself; the client shares CPU 0 with the attached tool
    # (Attached pins it there), so the tool's user space costs throughput as it would.
    server = subprocess.Popen(
        [
            *pinned((os.cpu_count() or 1) - 1),
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise RuntimeError("redis-server did not start")


def throughput(port: int, requests: int) -> dict[str, float]:
    """Return requests per second of SET and GET from one redis-benchmark run."""
    output = subprocess.run(
        [
            *pinned(0),
            "redis-benchmark",
            "-p",
            str(port),
            "-t",
            "set,get",
            "-n",
            str(requests),
            "-q",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found: dict[str, float] = {}
    for test in TESTS:
        match = re.search(rf"{test}: ([\d.]+) requests per second", output.replace("\r", "\n"))
        if match is None:
            raise RuntimeError(f"no {test} figure in redis-benchmark output: {output!r}")
        found[test] = float(match.group(1))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=300_000)
    args = parser.parse_args()
    if shutil.which("redis-server") is None or shutil.which("redis-benchmark") is None:
        print("bench: redis-server and redis-benchmark are needed (apt-get install redis-server)")
        return 2
    from tui.sources.kernel_headers import locate_headers

    ensure_tracefs()
    env = {**os.environ, "BCC_KERNEL_SOURCE": str(locate_headers().path), "PYTHONPATH": str(REPO)}
    variants = [v for v in VARIANTS if not v.startswith("syscount") or Path(SYSCOUNT).exists()]
    results: dict[tuple[str, str], list[float]] = {(v, t): [] for v in variants for t in TESTS}
    with tempfile.TemporaryDirectory() as workdir:
        port = free_port()
        server = start_redis(port, Path(workdir))
        try:
            for round_index in range(args.rounds):
                for variant in variants:
                    attached = Attached("baseline" if variant == "nothing" else variant, env)
                    try:
                        for test, value in throughput(port, args.requests).items():
                            results[(variant, test)].append(value)
                    finally:
                        attached.stop()
                print(f"round {round_index + 1}/{args.rounds} done", file=sys.stderr)
        finally:
            server.kill()  # the server this run started, by the pid it recorded
            server.wait(10)
    lines = [
        f"redis-benchmark -t set,get -n {args.requests:,} (50 clients), {args.rounds} rounds, "
        f"variants alternating; medians of req/s, and the cost as the median (min-max) of each "
        f"round's cost against that round's run with nothing attached. Server on the last CPU, "
        f"client and tool on CPU 0. Kernel {os.uname().release}, {os.cpu_count()} CPUs.",
        "",
        "| attached | SET req/s | cost | GET req/s | cost |",
        "|---|---:|---:|---:|---:|",
    ]
    for variant in variants:
        cells = []
        for test in TESTS:
            values = results[(variant, test)]
            cells.append(f"{statistics.median(values):,.0f}")
            if variant == "nothing":
                cells.append("-")
                continue
            costs = [
                100 * (1 - value / base)
                for value, base in zip(values, results[("nothing", test)], strict=True)
            ]
            cells.append(f"{statistics.median(costs):.1f}% ({min(costs):.1f} to {max(costs):.1f})")
        lines.append(f"| {variant} | " + " | ".join(cells) + " |")
    publish(lines, RESULTS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
