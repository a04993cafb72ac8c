"""`make bench`: where a call's cost goes on this host, from the kernel's own BPF run-time stats.

Two tables, both from `kernel.bpf_stats_enabled` (run time and run count per program):
- each operation our programs make per call (a clock read, the pid/tgid helper, a hash
  lookup, a per-CPU array lookup, an atomic add), timed as a program that makes it once
  against one that makes it none, on the getppid loop (once, as our programs do: repeated
  in a loop, a helper call costs about half, the branch predictors warm);
- each tier's programs per call of the getppid and failing-openat loops, less what the stats
  cost an empty program (two clock reads of their own around each run).
Dispatch, the cost of reaching a program at all, is not in either: the overhead bench
measures it as the empty-program floor. The host's CPU mitigations set most of these
figures (the table's header says which), which is why the same programs cost 0.8x or 1.3x
the floor on different host builds.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.bench import publish
from tests.bench.overhead import LOOPS, Attached, build_loop

RESULTS = Path(__file__).resolve().parent / "results" / "costs.md"
STATS_SWITCH = Path("/proc/sys/kernel/bpf_stats_enabled")
REPEAT = 1
# One raw_tp sys_exit program per operation, each making it REPEAT times; the accumulator
# goes to a map so the compiler keeps every call.
OPERATIONS = {
    "nothing": "",
    "clock read (bpf_ktime_get_ns)": "acc += bpf_ktime_get_ns();",
    "pid and tgid (bpf_get_current_pid_tgid)": "acc += bpf_get_current_pid_tgid();",
    "hash lookup, 8-byte key": "u64 *v = pairs.lookup(&key); if (v) acc += *v;",
    "per-CPU array lookup": "u64 *v = lines.lookup(&zero); if (v) acc += *v;",
    "atomic add to a map value": "if (shared) __sync_fetch_and_add(shared, 1);",
}
TIERS = ("empty", "ours", "ours, counts tier")


def operations_program() -> str:
    """Return the C text of one program per operation."""
    text = (
        "struct pair { u32 tgid; u32 slot; };\n"
        "BPF_HASH(pairs, struct pair, u64, 65536);\n"
        "BPF_PERCPU_ARRAY(lines, u64, 1);\n"
        "BPF_ARRAY(sink, u64, 1);\n"
    )
    for index, body in enumerate(OPERATIONS.values()):
        text += (
            f"int op_{index}(void *ctx) {{\n"
            "    u64 acc = 0; u32 zero = 0; struct pair key = {.tgid = 1, .slot = 39};\n"
            "    u64 *shared = sink.lookup(&zero);\n"
            "#pragma unroll\n"
            f"    for (int i = 0; i < {REPEAT}; i++) {{ {body} }}\n"
            "    if (shared) *shared += acc;\n"
            "    return 0;\n"
            "}\n"
        )
    return text


@contextlib.contextmanager
def bpf_stats() -> Iterator[None]:
    """Turn the kernel's BPF run-time stats on, and back to what they were."""
    before = STATS_SWITCH.read_text().strip()
    STATS_SWITCH.write_text("1")
    try:
        yield
    finally:
        STATS_SWITCH.write_text(before)


def program_stats(pid: int) -> dict[str, tuple[int, int]]:
    """Return (run time ns, run count) of each BPF program the process `pid` holds, by fd."""
    found = {}
    for info in Path(f"/proc/{pid}/fdinfo").iterdir():
        try:
            text = info.read_text()
        except OSError:
            continue  # closed since the listing
        fields = dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)
        if "prog_type" in fields and "run_cnt" in fields:
            found[info.name] = (int(fields["run_time_ns"]), int(fields["run_cnt"]))
    return found


def timed_loop(loop: list[str], calls: int) -> None:
    """Run the loop on the last CPU (the attachers sit on CPU 0)."""
    pin = ["taskset", "-c", str((os.cpu_count() or 1) - 1)]
    subprocess.run([*pin, *loop, str(calls)], check=True, capture_output=True)


def operation_costs(loop: list[str], calls: int, rounds: int) -> dict[str, list[float]]:
    """Return ns per operation of each round, less the program that makes none."""
    from bcc import BPF

    program = BPF(text=operations_program())
    pairs = program["pairs"]
    pairs[pairs.Key(1, 39)] = ctypes.c_ulonglong(1)
    costs: dict[str, list[float]] = {name: [] for name in OPERATIONS}
    for _ in range(rounds):
        per_run = {}
        for index, name in enumerate(OPERATIONS):
            function = program.load_func(f"op_{index}", BPF.RAW_TRACEPOINT)
            program.attach_raw_tracepoint(tp=b"sys_exit", fn_name=f"op_{index}".encode())
            try:
                mine = str(function.fd)
                with bpf_stats():
                    start = program_stats(os.getpid())[mine]
                    timed_loop(loop, calls)
                    end = program_stats(os.getpid())[mine]
            finally:
                program.detach_raw_tracepoint(tp=b"sys_exit")
            per_run[name] = (end[0] - start[0]) / max(end[1] - start[1], 1)
        for name in OPERATIONS:
            costs[name].append((per_run[name] - per_run["nothing"]) / REPEAT)
    program.cleanup()
    return costs


def tier_costs(
    loops: dict[str, list[str]], calls: int, rounds: int, env: dict[str, str]
) -> dict[tuple[str, str], list[float]]:
    """Return each tier's program time per call of each loop, less the stats' own cost."""
    samples: dict[tuple[str, str], list[float]] = {}
    for _ in range(rounds):
        stats_per_run: dict[str, float] = {}
        for tier in TIERS:
            attached = Attached(tier, env)
            try:
                assert attached.process is not None
                for loop_name, loop in loops.items():
                    with bpf_stats():
                        start = program_stats(attached.process.pid)
                        timed_loop(loop, calls)
                        end = program_stats(attached.process.pid)
                    spent = sum(end[fd][0] - start.get(fd, (0, 0))[0] for fd in end)
                    runs = sum(end[fd][1] - start.get(fd, (0, 0))[1] for fd in end)
                    if tier == "empty":
                        stats_per_run[loop_name] = spent / max(runs, 1)
                    body = spent - runs * stats_per_run[loop_name]
                    samples.setdefault((tier, loop_name), []).append(body / calls)
            finally:
                attached.stop()
    return samples


def mitigations() -> str:
    """Return the host's return-stack and branch mitigations, as the kernel states them."""
    found = []
    for name in ("spec_rstack_overflow", "retbleed", "spectre_v2"):
        path = Path("/sys/devices/system/cpu/vulnerabilities") / name
        with contextlib.suppress(OSError):
            found.append(f"{name}: {path.read_text().strip()}")
    return "; ".join(found) or "not stated"


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} ({min(values):.1f}–{max(values):.1f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=2_000_000)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench: needs root to load BPF programs", file=sys.stderr)
        return 2
    from tui.sources.kernel_headers import locate_headers

    headers = str(locate_headers().path)
    os.environ["BCC_KERNEL_SOURCE"] = headers
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    with tempfile.TemporaryDirectory() as workdir:
        loops = {name: build_loop(Path(workdir), source) for name, source in LOOPS.items()}
        operations = operation_costs(loops["getppid"], args.calls, args.rounds)
        tiers = tier_costs(loops, args.calls, args.rounds, env)
    lines = [
        f"BPF run-time stats, {args.calls:,} calls x {args.rounds} rounds; medians (min–max "
        f"of rounds). Kernel {os.uname().release}, {os.cpu_count()} CPUs. {mitigations()}.",
        "",
        "| operation, in a sys_exit program | ns each |",
        "|---|---:|",
    ]
    lines += [f"| {name} | {spread(values)} |" for name, values in operations.items()][1:]
    lines += [
        "",
        "| programs attached | ns per getppid call | ns per failing openat call |",
        "|---|---:|---:|",
    ]
    for tier in TIERS[1:]:
        cells = [spread(tiers[(tier, loop_name)]) for loop_name in LOOPS]
        lines.append(f"| {tier} | " + " | ".join(cells) + " |")
    publish(lines, RESULTS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
