"""Reliability figures for README: `python -m tests.bench.reliability [load|churn|soak|all]`.

load:  two C getppid loops of exactly LOOP_CALLS each (>1M calls/s together) under
       `syscalltop --json --comm`; the per-interval counts must sum to exactly 2*LOOP_CALLS.
       Also the collector's CPU, and how long the dashboard takes to answer a key under load.
churn: 20,000 short-lived processes under `syscalltop --json`: RSS, fds, threads, CPU, drops,
       and how long SIGTERM takes afterwards.
soak:  a 0.1 s interval for SOAK_S seconds (3,000 intervals) under mixed load: RSS growth
       after warm-up, open files and threads.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LOOP_CALLS = 60_000_000
SOAK_S = 300


def proc_stats(pid: int) -> dict[str, float]:
    status = Path(f"/proc/{pid}/status").read_text()
    rss_kb = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")))
    threads = int(
        next(line.split()[1] for line in status.splitlines() if line.startswith("Threads"))
    )
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu_s = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return {
        "rss_mb": rss_kb / 1024,
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
        "threads": threads,
        "cpu_s": cpu_s,
    }


def build_loop(workdir: Path) -> Path:
    binary = workdir / "getppid_loop"
    subprocess.run(
        ["cc", "-O2", "-o", str(binary), str(REPO / "tests/bench/getppid_loop.c")], check=True
    )
    return binary


def headless(*args: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tui", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert process.stdout is not None
    return process


def load() -> list[str]:
    with tempfile.TemporaryDirectory() as workdir:
        loop = build_loop(Path(workdir))
        watcher = headless("--json", "-i", "1", "--comm", "getppid_loop", "-d", "90")
        first = watcher.stdout.readline()  # attached and one interval done
        before = proc_stats(watcher.pid)
        started = time.monotonic()
        loops = [
            subprocess.Popen([str(loop), str(LOOP_CALLS)], stdout=subprocess.PIPE) for _ in range(2)
        ]
        lines = [first]
        while any(p.poll() is None for p in loops):
            lines.append(watcher.stdout.readline())
        elapsed = time.monotonic() - started
        for _ in range(2):
            lines.append(watcher.stdout.readline())
        after = proc_stats(watcher.pid)
        watcher.terminate()
        watcher.wait(10)
    records = [json.loads(line) for line in lines if line.strip()]
    counted = sum(r["count"] for rec in records for r in rec["syscalls"] if r["name"] == "getppid")
    peak = max(rec["totals"]["rate"] for rec in records)
    collector = 100 * (after["cpu_s"] - before["cpu_s"]) / elapsed
    verdict = "exact" if counted == 2 * LOOP_CALLS else "MISMATCH"
    result = [
        f"load: 2 x {LOOP_CALLS:,} getppid in {elapsed:.0f} s, peak {peak / 1e6:.2f}M calls/s; "
        f"per-interval counts sum to {counted:,} ({verdict}); "
        f"collector {collector:.1f}% of one CPU; RSS {after['rss_mb']:.0f} MB",
    ]
    result.append(key_latency_under_load())
    return result


def key_latency_under_load() -> str:
    if shutil.which("tmux") is None:
        return "load: key latency not measured (no tmux)"
    with tempfile.TemporaryDirectory() as workdir:
        loop = build_loop(Path(workdir))
        session = "st-reliability"
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
        subprocess.run(
            [
                "tmux",
                "new-session",
                "-d",
                "-s",
                session,
                "-x",
                "100",
                "-y",
                "30",
                f"cd {REPO} && {sys.executable} -m tui",
            ],
            check=True,
        )
        loops = [
            subprocess.Popen([str(loop), str(LOOP_CALLS)], stdout=subprocess.PIPE) for _ in range(2)
        ]
        time.sleep(4)
        latencies = []
        for _ in range(5):
            start = time.monotonic()
            subprocess.run(["tmux", "send-keys", "-t", session, "?"], check=True)
            while (
                "syscalltop keys"
                not in subprocess.run(
                    ["tmux", "capture-pane", "-t", session, "-p"], capture_output=True, text=True
                ).stdout
            ):
                time.sleep(0.01)
            latencies.append(time.monotonic() - start)
            subprocess.run(["tmux", "send-keys", "-t", session, "Escape"], check=True)
            time.sleep(0.5)
        for process in loops:
            process.kill()
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    return (
        f"load: dashboard answered '?' in {max(latencies) * 1000:.0f} ms at worst "
        f"(5 tries, 1 s interval) while both loops ran"
    )


def spawn_paced(count: int, seconds: float) -> float:
    """Start `count` short-lived processes evenly over `seconds`; return the time taken."""
    started = time.monotonic()
    running: list[subprocess.Popen[bytes]] = []
    for index in range(count):
        running.append(subprocess.Popen(["/bin/true"]))
        if len(running) > 64:
            running.pop(0).wait()
        delay = started + seconds * (index + 1) / count - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    for process in running:
        process.wait()
    return time.monotonic() - started


def churn_round(seconds: float) -> float:
    """Start 20,000 short-lived processes, paced over `seconds` or as fast as sh can."""
    if seconds:
        return spawn_paced(20_000, seconds)
    started = time.monotonic()
    subprocess.run(
        ["sh", "-c", "i=0; while [ $i -lt 20000 ]; do /bin/true; i=$((i+1)); done"], check=True
    )
    return time.monotonic() - started


def churn() -> list[str]:
    lines = []
    for label, seconds in (("paced, 20,000 a minute", 60.0), ("as fast as sh can", 0.0)):
        with tempfile.TemporaryFile("w+") as output:
            watcher = subprocess.Popen(
                [sys.executable, "-m", "tui", "--json", "-i", "1"],
                stdout=output,
                stderr=subprocess.STDOUT,
                text=True,
                cwd=REPO,
            )
            time.sleep(3)
            marks = [proc_stats(watcher.pid)]
            took = []
            for _ in range(2):  # a second round shows whether memory keeps growing or is bounded
                took.append(churn_round(seconds))
                time.sleep(3)
                marks.append(proc_stats(watcher.pid))
            signalled = time.monotonic()
            watcher.terminate()
            watcher.wait(10)
            exit_s = time.monotonic() - signalled
            output.seek(0)
            last = json.loads(output.read().splitlines()[-1])
        cpu_s = marks[-1]["cpu_s"] - marks[0]["cpu_s"]
        rss = " -> ".join(f"{mark['rss_mb']:.0f}" for mark in marks)
        lines.append(
            f"churn ({label}): 2 rounds of 20,000 processes ({took[0]:.0f} s, {took[1]:.0f} s); "
            f"RSS {rss} MB; fds {marks[0]['fds']} -> {marks[-1]['fds']}, "
            f"threads {marks[0]['threads']} -> {marks[-1]['threads']}; "
            f"collector CPU {100 * cpu_s / (sum(took) + 6):.0f}% of one CPU; "
            f"pairs dropped (process map full): {last['totals']['dropped']['process_map_full']}; "
            f"SIGTERM exit in {exit_s:.2f} s"
        )
    return lines


def soak() -> list[str]:
    with tempfile.TemporaryDirectory() as workdir:
        loop = build_loop(Path(workdir))
        watcher = headless("--quiet", "-i", "0.1")
        busy = subprocess.Popen(
            [
                "sh",
                "-c",
                f"while :; do {loop} 2000000 >/dev/null; "
                "for i in 1 2 3 4 5 6 7 8 9 10; do /bin/true; done; done",
            ],
            start_new_session=True,  # its own group: the loop and its children end together
        )
        time.sleep(30)
        warm = proc_stats(watcher.pid)
        time.sleep(SOAK_S - 30)
        end = proc_stats(watcher.pid)
        os.killpg(busy.pid, signal.SIGKILL)  # the group we started, by the pid we recorded
        busy.wait()
        watcher.terminate()
        watcher.wait(10)
    return [
        f"soak: {SOAK_S} s at 0.1 s ({SOAK_S * 10} intervals) under loops and churn: RSS "
        f"{warm['rss_mb']:.1f} MB after warm-up -> {end['rss_mb']:.1f} MB "
        f"({end['rss_mb'] - warm['rss_mb']:+.1f}), fds {warm['fds']} -> {end['fds']}, "
        f"threads {warm['threads']} -> {end['threads']}"
    ]


def main() -> int:
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    parts = {"load": load, "churn": churn, "soak": soak}
    for name, run in parts.items():
        if which in (name, "all"):
            for line in run():
                print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
