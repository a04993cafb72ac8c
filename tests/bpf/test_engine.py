"""The real program on this kernel, driven by workloads with exact, known syscall counts."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest

from tests.conftest import Workload
from tui.config import Config, Filters
from tui.model.names import INVALID_SLOT, SyscallNames
from tui.model.snapshot import Snapshot, build_snapshot

pytestmark = pytest.mark.bpf

N_GETPPID = 1234
M_ENOENT = 37
K_SLEEPS = 15
NAMES = SyscallNames()


@pytest.fixture
def live() -> Iterator[Callable[[Config], object]]:
    """Start BccSources for configs and close them all afterwards."""
    from tui.sources.bcc_source import BccSource

    sources: list[BccSource] = []

    def open_source(config: Config) -> BccSource:
        source = BccSource(config, NAMES)
        sources.append(source)
        source.start()
        return source

    yield open_source
    for source in sources:
        source.close()


def entries_in_map(source: object) -> list[tuple[int, int]]:
    """Return the (tgid, slot) keys in the per-process map now."""
    keys, _, _ = source._proc_reader.read()  # type: ignore[attr-defined]
    return list(struct.iter_unpack("<II", keys))


def run_and_measure(source: object, workload: Workload) -> Snapshot:
    """Read, let the workload do its calls, read again; return that interval."""
    before = source.read()  # type: ignore[attr-defined]
    workload.go()
    source.poll(0.05)  # type: ignore[attr-defined]
    after = source.read()  # type: ignore[attr-defined]
    return build_snapshot(before, after, NAMES)


def counts(snapshot: Snapshot) -> dict[str, int]:
    return {row.label: row.count for row in snapshot.syscalls if row.count}


def assert_workload_exact(snapshot: Snapshot, timed: bool = True) -> None:
    found = counts(snapshot)
    assert found.get("getppid") == N_GETPPID
    openat = next(row for row in snapshot.syscalls if row.name == "openat")
    assert openat.count == M_ENOENT
    assert openat.errors == M_ENOENT
    assert dict(openat.errnos) == {"ENOENT": M_ENOENT}
    sleeps = next(row for row in snapshot.syscalls if row.name == "clock_nanosleep")
    assert sleeps.count == K_SLEEPS
    assert sleeps.errors == 0
    if not timed:
        assert sleeps.latency.p50_ns is None
        return
    # 2 ms sleeps: p50 is the upper bound of the log2 bucket holding ~2 ms (capped by max).
    assert sleeps.latency.p50_ns is not None
    assert 2_000_000 <= sleeps.latency.p50_ns <= 1 << 22
    # Every sleep is in the histogram, none shorter than it slept: [1.05 ms, ...). How much
    # longer each took is the scheduler's (on a busy machine, 3 of 15 took over 4.19 ms).
    assert sum(sleeps.hist) == K_SLEEPS and sum(sleeps.hist[:20]) == 0
    assert sleeps.latency.avg_ns is not None and sleeps.latency.avg_ns >= 2_000_000


WORKLOAD_FLAGS = (
    f"--getppid={N_GETPPID}",
    f"--enoent={M_ENOENT}",
    f"--sleeps={K_SLEEPS}",
)


def test_exact_counts_under_comm_filter(live, workload_factory) -> None:
    workload = workload_factory(*WORKLOAD_FLAGS)
    source = live(Config(filters=Filters(comm=workload.name)))
    snapshot = run_and_measure(source, workload)
    assert_workload_exact(snapshot)
    assert {row.pid for row in snapshot.processes} == {workload.pid}
    process = snapshot.processes[0]
    assert process.comm == workload.name
    assert process.top_syscall == "getppid"
    assert process.errors == M_ENOENT


@pytest.mark.parametrize("level", ["full", "counts"])
def test_a_kept_image_loads_without_a_compile_and_counts_as_exactly(
    live, workload_factory, monkeypatch, tmp_path, level: str
) -> None:
    """The first start of a program compiles it and keeps its image; the next start loads
    that image with no compile at all, and its counts are as exact."""
    import bcc

    from tui.sources.program_cache import load_image

    os.chmod(tmp_path, 0o700)
    cache = tmp_path / "programs"
    monkeypatch.setenv("SYSCALLTOP_PROGRAM_CACHE", str(cache))
    workload = workload_factory(*WORKLOAD_FLAGS, "--rounds=4")
    config = Config(filters=Filters(pids=(workload.pid,)), level=level)
    if level == "counts":
        config = replace(config, sample_every=0, capture_rate=0)
    first = live(config)
    assert (first.image_origin, first.image_not_kept) == ("compiled", "")
    [kept] = cache.glob("*.json")
    attached = list(first._loaded.attached)
    assert_workload_exact(run_and_measure(first, workload), timed=level == "full")
    first.close()

    def no_compile(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled although an image was kept")

    monkeypatch.setattr(bcc, "BPF", no_compile)
    second = live(config)
    assert second.image_origin == "cached"
    assert second._loaded.attached == attached
    assert_workload_exact(run_and_measure(second, workload), timed=level == "full")
    second.close()
    monkeypatch.undo()
    monkeypatch.setenv("SYSCALLTOP_PROGRAM_CACHE", str(cache))

    # Damage the kernel refuses (well formed, so no check before the load sees it): the
    # start compiles afresh and keeps a good image in its place.
    document = json.loads(kept.read_text())
    for function in document["functions"]:
        function[1] = "ff" * 8 + function[1][16:]  # an opcode no kernel knows
    kept.write_text(json.dumps(document))
    assert load_image(cache, kept.stem) is not None  # well formed: only the kernel refuses it
    third = live(config)
    assert third.image_origin == "compiled"
    assert load_image(cache, kept.stem) is not None
    assert_workload_exact(run_and_measure(third, workload), timed=level == "full")
    third.close()

    # Well formed, and the kernel takes it, but a map the source reads has another size: a
    # compile too, not a traceback.
    document = json.loads(kept.read_text())
    for spec in document["maps"]:
        if spec[0] == "loss_counts":
            spec[3] *= 2  # its value size
    kept.write_text(json.dumps(document))
    assert load_image(cache, kept.stem) is not None
    fourth = live(config)
    assert fourth.image_origin == "compiled"
    assert_workload_exact(run_and_measure(fourth, workload), timed=level == "full")


def test_exact_counts_under_pid_filter(live, workload_factory) -> None:
    workload = workload_factory(*WORKLOAD_FLAGS)
    source = live(Config(filters=Filters(pids=(workload.pid,))))
    snapshot = run_and_measure(source, workload)
    assert_workload_exact(snapshot)
    assert {row.pid for row in snapshot.processes} == {workload.pid}


def test_a_new_pid_target_loads_the_kept_image_and_counts_only_its_target(
    live, workload_factory, monkeypatch, tmp_path
) -> None:
    """-p PID keeps one image for every target: a start for another pid compiles nothing,
    and each counts exactly its own target's calls, while another workload calls too."""
    import bcc

    os.chmod(tmp_path, 0o700)
    monkeypatch.setenv("SYSCALLTOP_PROGRAM_CACHE", str(tmp_path / "programs"))
    first_target = workload_factory(*WORKLOAD_FLAGS)
    second_target = workload_factory(*WORKLOAD_FLAGS)
    first = live(Config(filters=Filters(pids=(first_target.pid,))))
    assert first.image_origin == "compiled"
    first.close()

    def no_compile(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled although an image was kept")

    monkeypatch.setattr(bcc, "BPF", no_compile)
    second = live(Config(filters=Filters(pids=(second_target.pid,))))
    assert second.image_origin == "cached"
    before = second.read()
    first_target.go()  # not the target now: none of its calls may count
    second_target.go()
    second.poll(0.05)
    snapshot = build_snapshot(before, second.read(), NAMES)
    assert_workload_exact(snapshot)
    assert {row.pid for row in snapshot.processes} == {second_target.pid}


def test_pids_are_compiled_in_when_the_image_lacks_their_placeholders(
    live, workload_factory, monkeypatch
) -> None:
    """Should a clang fold a -p placeholder away, the start compiles the pids in instead of
    loading a program that would filter on the placeholder."""
    from tui.sources import bcc_source

    real_missing = bcc_source.missing_immediates
    answers = iter([{1}])  # the first image checked: as if a placeholder were gone

    def missing_once(image, values):
        return next(answers, None) or real_missing(image, values)

    monkeypatch.setattr(bcc_source, "missing_immediates", missing_once)
    workload = workload_factory(*WORKLOAD_FLAGS)
    source = live(Config(filters=Filters(pids=(workload.pid,))))
    assert dict(source.program.defines)["FILTER_TGID_EXPR"] == f"(tgid == {workload.pid})"
    assert source.program.required == ()
    assert_workload_exact(run_and_measure(source, workload))


@pytest.mark.parametrize(("filtered", "btf"), [(True, True), (False, True), (True, False)])
def test_counts_tier_is_exact_with_no_latency_and_one_program(
    live, workload_factory, monkeypatch, filtered: bool, btf: bool
) -> None:
    """--level counts: one exit-side program, no clock; counts, errors and errnos exact,
    attached as a BTF-typed tracepoint where it can be, else as a raw one."""
    from tui.sources import bcc_source

    if not btf:  # as on a machine without a tp_btf layout: the raw tracepoint instead
        monkeypatch.setattr(bcc_source, "_SYS_BPF", None)
    workload = workload_factory(*WORKLOAD_FLAGS)
    filters = Filters(pids=(workload.pid,)) if filtered else Filters()
    source = live(Config(filters=filters, level="counts", sample_every=0, capture_rate=0))
    loaded = source._loaded  # type: ignore[attr-defined]
    # One program per call, at exit; the others run only when a task changes cgroups or a
    # process ends.
    raw_exit = helper_call_ids(loaded.image.function("on_sys_exit").insns)
    assert BPF_FUNC_KTIME_GET_NS not in raw_exit
    if btf:
        assert source.exit_attachment == "tp_btf"  # type: ignore[attr-defined]
        assert loaded.attached == ["cgroup_attach_task", "sched_process_exit", END]
        # The syscall id is a plain load there: one probe read fewer than the raw program.
        btf_exit = helper_call_ids(loaded.image.function("btf_sys_exit").insns)
        assert BPF_FUNC_KTIME_GET_NS not in btf_exit
        reads = raw_exit.count(BPF_FUNC_PROBE_READ_KERNEL)
        assert btf_exit.count(BPF_FUNC_PROBE_READ_KERNEL) == reads - 1
    else:
        assert source.exit_attachment.startswith("raw_tp (")  # type: ignore[attr-defined]
        assert loaded.attached == ["cgroup_attach_task", "sched_process_exit", "sys_exit", END]
    # Four programs and their links (with tp_btf, one of each is BTF-typed); the one per
    # call is the exit's. A fifth, never attached, flushes each CPU's cached pair.
    program_fds = list(loaded._fds)
    assert len(program_fds) == 9
    # Without the bpf syscall's number (as on another architecture) it cannot be run: the
    # pairs are not cached, and every call goes to its entry.
    cache = "on" if btf else "off (BPF_PROG_TEST_RUN: Function not implemented)"
    assert source.pair_cache == cache  # type: ignore[attr-defined]
    snapshot = run_and_measure(source, workload)
    process = snapshot.process(workload.pid)
    assert process is not None
    mix = {call.label: call for call in process.syscalls}
    assert mix["getppid"].count == N_GETPPID
    assert (mix["openat"].count, mix["openat"].errors) == (M_ENOENT, M_ENOENT)
    assert mix["clock_nanosleep"].count == K_SLEEPS
    assert all(call.latency.avg_ns is None for call in process.syscalls)
    if filtered:
        openat = next(row for row in snapshot.syscalls if row.name == "openat")
        assert (openat.count, dict(openat.errnos)) == (M_ENOENT, {"ENOENT": M_ENOENT})
        assert counts(snapshot).get("getppid") == N_GETPPID
        assert all(row.latency.p50_ns is None for row in snapshot.syscalls)
    assert snapshot.inflight == ()
    source.close()  # type: ignore[attr-defined]
    for fd in program_fds:  # the programs and links are let go: nothing stays attached
        with pytest.raises(OSError):
            os.fstat(fd)


COUNTS_ONLY = Config(level="counts", sample_every=0, capture_rate=0)
GETPPID, OPENAT = NAMES.slots_for("getppid")[0], NAMES.slots_for("openat")[0]
CPU_STATE = struct.Struct("<Q6I4I3Q")  # struct cpu_state (bpf/syscalls.h)


class ForkedCaller:
    """A forked child that, pinned to a CPU, makes exact calls on each round, and nothing
    else until it is released."""

    def __init__(self, cpu: int, getppids: int, enoents: int = 0) -> None:
        go_read, self._go = os.pipe()
        self._done, done_write = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the child: nothing but the calls counted, then the waits
            try:
                os.close(self._go)
                os.sched_setaffinity(0, {cpu})
                while True:
                    for _ in range(getppids):
                        os.getppid()
                    for _ in range(enoents):
                        with contextlib.suppress(FileNotFoundError):
                            os.open("/nonexistent/syscalltop-pair-cache", os.O_RDONLY)
                    os.write(done_write, b"x")
                    if not os.read(go_read, 1):
                        break
            finally:
                os._exit(0)
        os.close(go_read)
        os.close(done_write)
        self._wait_done()

    def _wait_done(self) -> None:
        assert os.read(self._done, 1) == b"x"

    def again(self) -> None:
        """Make the same calls once more."""
        os.write(self._go, b"g")
        self._wait_done()

    def release(self) -> None:
        """Let the child exit, and reap it."""
        os.close(self._go)
        os.close(self._done)
        os.waitpid(self.pid, 0)


@contextlib.contextmanager
def off_cpu(cpu: int) -> Iterator[None]:
    """Keep this thread's own calls off `cpu` (where there is another), so they do not take
    its cache from the child's pair."""
    mine = os.sched_getaffinity(0)
    if len(mine) > 1:
        os.sched_setaffinity(0, mine - {cpu})
    try:
        yield
    finally:
        os.sched_setaffinity(0, mine)


def cached_pairs(source: object) -> dict[tuple[int, int], tuple[int, int]]:
    """Return, per CPU, the pair it caches now → its pending (count, errors)."""
    cpus = source._cpus  # type: ignore[attr-defined]
    reader = source._loaded.reader("cpu_states", 4, CPU_STATE.size * cpus, 1)  # type: ignore[attr-defined]
    raw = reader.lookup(bytes(4))
    assert raw is not None
    found = {}
    for state in CPU_STATE.iter_unpack(raw):
        cached_tgid, cached_slot, pending = state[9], state[10], state[13]
        if pending:
            found[(cached_tgid, cached_slot)] = (pending & 0xFFFFFFFF, pending >> 32)
    return found


@pytest.mark.parametrize("config", [COUNTS_ONLY, Config()], ids=["counts", "full"])
def test_a_hot_loop_s_cached_calls_are_all_in_the_next_read(live, config: Config) -> None:
    """A pair made again and again on a CPU is counted there, and user space makes each CPU
    hand its cached calls (and their latency) over before it reads: the read holds them all."""
    source = live(config)
    assert source.pair_cache == "on"
    cpu = min(os.sched_getaffinity(0))
    before = source.read()
    with off_cpu(cpu):
        child = ForkedCaller(cpu, N_GETPPID, M_ENOENT)
    pid = child.pid
    try:
        # The child's last pair waits in its CPU's cache, not in its entry (unless another
        # process's pair took the cache meanwhile): every call failed, so as many errors.
        waiting = cached_pairs(source).get((pid, OPENAT), (0, 0))
        assert waiting[0] == waiting[1] <= M_ENOENT - 2
        after = source.read()
        assert (pid, OPENAT) not in cached_pairs(source)  # handed over
        snapshot = build_snapshot(before, after, NAMES)
        process = snapshot.process(pid)
        assert process is not None
        mix = {call.label: call for call in process.syscalls}
        assert mix["getppid"].count == N_GETPPID
        assert (mix["openat"].count, mix["openat"].errors) == (M_ENOENT, M_ENOENT)
        assert snapshot.totals.loss.proc_map_full == 0
        if config.timed:  # each call's latency once: in the histogram, the sum, the max
            for name, calls in (("getppid", N_GETPPID), ("openat", M_ENOENT)):
                assert sum(mix[name].hist) == calls
                assert 0 < (mix[name].latency_max_ns or 0) <= mix[name].latency_sum_ns
                # The slowest call is in the top bucket the histogram holds calls in.
                top = max(i for i, n in enumerate(mix[name].hist) if n)
                assert (mix[name].latency_max_ns or 0).bit_length() - 1 == top
    finally:
        child.release()


def test_a_pid_a_new_process_reuses_is_counted_as_that_process(live) -> None:
    """Counts tier: a CPU still caching an ended process's pair does not take the calls of a
    new process given the same pid (they would go to an entry already taken)."""
    cpu = min(os.sched_getaffinity(0))
    source = live(COUNTS_ONLY)
    with off_cpu(cpu):
        first = ForkedCaller(cpu, N_GETPPID)
        first.release()
        reading = source.read()
        assert reading.processes[(first.pid, GETPPID)].counters.count == N_GETPPID
        assert first.pid in reading.exited
        for _ in range(50):  # the next pid, unless another fork takes it first
            with open("/proc/sys/kernel/ns_last_pid", "w") as last_pid:
                last_pid.write(str(first.pid - 1))
            second = ForkedCaller(cpu, 2 * N_GETPPID)
            if second.pid == first.pid:
                break
            second.release()
        assert second.pid == first.pid
        try:
            reading = source.read()
            assert reading.processes[(second.pid, GETPPID)].counters.count == 2 * N_GETPPID
            assert reading.loss.proc_map_full == 0
        finally:
            second.release()


def test_a_failed_flush_turns_the_cache_off_and_later_reads_are_still_exact(
    live, monkeypatch
) -> None:
    """Counts tier: when a CPU cannot be made to hand over its cached calls, no pair is
    cached from then on, not even the one cached now, and what it holds arrives at the first
    flush that works."""
    from tui.sources import bcc_source

    cpu = min(os.sched_getaffinity(0))
    source = live(COUNTS_ONLY)
    with off_cpu(cpu):
        child = ForkedCaller(cpu, N_GETPPID)
        try:
            with monkeypatch.context() as refusing:
                refusing.setattr(bcc_source, "_run_on_cpu", lambda fd, cpu: errno.EPERM)
                reading = source.read()
                assert source.pair_cache == "off (BPF_PROG_TEST_RUN: Operation not permitted)"
                # Two calls counted in the entry before the pair was cached; the rest wait
                # (unless another process's pair took the CPU's cache meanwhile).
                counted = reading.processes[(child.pid, GETPPID)].counters.count
                waiting = cached_pairs(source).get((child.pid, GETPPID), (0, 0))[0]
                assert counted + waiting == N_GETPPID and counted >= 2
                # Every cached pair is let go: task_ends jumped past any value a cache saw.
                ends = source._loaded.reader("task_ends", 4, 8, 1).lookup(bytes(4))
                assert int.from_bytes(ends, "little") >= bcc_source._ENDS_JUMP
                child.again()  # the cached pair again: to its entry now
                assert cached_pairs(source).get((child.pid, GETPPID), (0, 0))[0] == waiting
                reading = source.read()
                assert reading.processes[(child.pid, GETPPID)].counters.count == (
                    counted + N_GETPPID
                )
            reading = source.read()  # this flush works
            assert reading.processes[(child.pid, GETPPID)].counters.count == 2 * N_GETPPID
            assert cached_pairs(source) == {}
        finally:
            child.release()


# This kernel's sched_process_exit passes group_dead: ended processes are listed too.
END = "sched_process_exit:on_sched_process_end"
BPF_FUNC_KTIME_GET_NS = 5  # include/uapi/linux/bpf.h
BPF_FUNC_PROBE_READ_KERNEL = 113


def helper_call_ids(bytecode: bytes) -> list[int]:
    """Return the BPF helper id of each helper call a program makes (BPF_JMP|BPF_CALL with
    src_reg 0), in order."""
    return [
        int.from_bytes(bytecode[offset + 4 : offset + 8], "little", signed=True)
        for offset in range(0, len(bytecode), 8)
        if bytecode[offset] == 0x85 and bytecode[offset + 1] >> 4 == 0
    ]


def test_unfiltered_per_process_counts_are_exact(live, workload_factory) -> None:
    workload = workload_factory(*WORKLOAD_FLAGS)
    source = live(Config())
    snapshot = run_and_measure(source, workload)
    process = snapshot.process(workload.pid)
    assert process is not None
    mix = {call.label: call.count for call in process.syscalls}
    assert mix["getppid"] == N_GETPPID
    assert mix["openat"] == M_ENOENT
    assert mix["clock_nanosleep"] == K_SLEEPS
    assert process.errors == M_ENOENT
    # Globally there is at least the workload's share (other processes may add more).
    getppid = next(row for row in snapshot.syscalls if row.name == "getppid")
    assert getppid.count >= N_GETPPID


def test_failures_only_keeps_only_failed_calls(live, workload_factory) -> None:
    workload = workload_factory(*WORKLOAD_FLAGS)
    source = live(Config(filters=Filters(pids=(workload.pid,), failures_only=True)))
    snapshot = run_and_measure(source, workload)
    assert counts(snapshot) == {"openat": M_ENOENT}


MIXED_ERRNO_SCRIPT = """
import os, sys, threading
root, calls = sys.argv[1], int(sys.argv[2])
os.mkdir(root + "/dir")
open(root + "/file", "w").close()
paths = [(root + "/missing", os.O_RDONLY), (root + "/file/x", os.O_RDONLY),
         (root + "/dir", os.O_WRONLY)]
def fail_three_ways(cpu):
    os.sched_setaffinity(0, {cpu})  # this thread only
    for _ in range(calls):
        for path, flags in paths:
            try:
                os.open(path, flags)
            except OSError:
                pass
cpus = sorted(os.sched_getaffinity(0))[:2]
print(len(cpus), flush=True)
sys.stdin.readline()
threads = [threading.Thread(target=fail_three_ways, args=(cpu,)) for cpu in cpus]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print("done", flush=True)
sys.stdin.readline()
"""


@pytest.mark.parametrize("level", ["full", "counts"])
def test_a_syscall_failing_several_ways_on_several_cpus_has_exact_errno_counts(
    live, tmp_path, level: str
) -> None:
    """Each CPU counts a syscall's first errno in its own stats line and the others in the
    errno map: the sums are exact, and each errno's first failure is captured once."""
    import subprocess
    import sys

    calls = 400
    worker = subprocess.Popen(
        [sys.executable, "-c", MIXED_ERRNO_SCRIPT, str(tmp_path), str(calls)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdin is not None and worker.stdout is not None
    try:
        threads = int(worker.stdout.readline())
        config = Config(filters=Filters(pids=(worker.pid,)), level=level, sample_every=0)
        source = live(config if level == "full" else replace(config, capture_rate=0))
        before = source.read()  # type: ignore[attr-defined]
        worker.stdin.write("go\n")
        worker.stdin.flush()
        assert worker.stdout.readline() == "done\n"
        source.poll(0.05)  # type: ignore[attr-defined]
        after = source.read()  # type: ignore[attr-defined]
    finally:
        worker.stdin.close()
        worker.wait(timeout=10)
    snapshot = build_snapshot(before, after, NAMES)
    openat = next(row for row in snapshot.syscalls if row.name == "openat")
    each = threads * calls
    assert dict(openat.errnos) == {"ENOENT": each, "ENOTDIR": each, "EISDIR": each}
    assert openat.errors == openat.count == 3 * each
    if level == "full":
        from tui.model.readings import REASON_NEW_ERRNO

        firsts = [
            event.ret
            for event in after.samples
            if event.reasons & REASON_NEW_ERRNO and NAMES.decode(event.slot).name == "openat"
        ]
        assert sorted(firsts) == sorted(-errno_value for errno_value in (2, 20, 21))


def test_errno_filter(live, workload_factory) -> None:
    workload = workload_factory(*WORKLOAD_FLAGS, "--bad-nr=5")
    source = live(Config(filters=Filters(pids=(workload.pid,), errno_value=2)))
    snapshot = run_and_measure(source, workload)
    assert counts(snapshot) == {"openat": M_ENOENT}


def test_syscall_name_filter(live, workload_factory) -> None:
    workload = workload_factory(*WORKLOAD_FLAGS)
    config = Config(filters=Filters(pids=(workload.pid,), syscall_names=("getppid", "openat")))
    snapshot = run_and_measure(live(config), workload)
    assert counts(snapshot) == {"getppid": N_GETPPID, "openat": M_ENOENT}


def test_tid_filter(live, workload_factory) -> None:
    workload = workload_factory(*WORKLOAD_FLAGS)
    source = live(Config(filters=Filters(tids=(workload.pid,), syscall_names=("getppid",))))
    snapshot = run_and_measure(source, workload)
    assert counts(snapshot) == {"getppid": N_GETPPID}


def test_uid_filter(live, workload_factory) -> None:
    nobody = 65534

    def drop_to_nobody() -> None:
        os.setgid(nobody)
        os.setuid(nobody)

    other = workload_factory(*WORKLOAD_FLAGS)
    workload = workload_factory(*WORKLOAD_FLAGS, preexec_fn=drop_to_nobody)
    source = live(Config(filters=Filters(uid=nobody, syscall_names=("getppid",))))
    before = source.read()
    workload.go()
    other.go()
    after = source.read()
    snapshot = build_snapshot(before, after, NAMES)
    assert counts(snapshot) == {"getppid": N_GETPPID}
    assert snapshot.processes[0].pid == workload.pid
    assert snapshot.processes[0].uid == nobody


def test_cgroup_filter(live, workload_factory) -> None:
    from tui.system import cgroup2_root, resolve_cgroup

    root = cgroup2_root()
    group = root / f"syscalltop-test-{os.getpid()}"
    group.mkdir()
    inside = workload_factory(*WORKLOAD_FLAGS)
    outside = workload_factory(*WORKLOAD_FLAGS)
    try:
        (group / "cgroup.procs").write_text(str(inside.pid))
        cgroup_id, level, _ = resolve_cgroup(str(group))
        config = Config(
            filters=Filters(cgroup_id=cgroup_id, cgroup_level=level, syscall_names=("getppid",))
        )
        source = live(config)
        before = source.read()
        inside.go()
        outside.go()
        snapshot = build_snapshot(before, source.read(), NAMES)
        assert counts(snapshot) == {"getppid": N_GETPPID}
        assert [row.pid for row in snapshot.processes] == [inside.pid]
    finally:
        for workload in (inside, outside):
            workload.finish()
        group.rmdir()


@pytest.mark.parametrize("kind", ["comm", "uid", "cgroup"])
def test_threads_blocked_before_start_obey_the_comm_uid_and_cgroup_filters(
    live, workload_factory, kind: str
) -> None:
    """The kernel filters the calls it sees; threads found blocked in /proc at start are
    filtered the same way, not listed from every process on the machine."""
    from tui.system import cgroup2_root, resolve_cgroup

    nobody = 65534

    def drop_to_nobody() -> None:
        os.setgid(nobody)
        os.setuid(nobody)

    wanted = workload_factory(
        "--getppid=1", **({"preexec_fn": drop_to_nobody} if kind == "uid" else {})
    )
    other = workload_factory("--getppid=1")
    group = cgroup2_root() / f"syscalltop-blocked-{os.getpid()}"
    if kind == "cgroup":
        group.mkdir()
        (group / "cgroup.procs").write_text(str(wanted.pid))
    try:
        for workload in (wanted, other):
            workload.go()  # each blocked in read(0) before any program is loaded
        if kind == "comm":
            filters = Filters(comm=wanted.name)
        elif kind == "uid":
            filters = Filters(uid=nobody)
        else:
            cgroup_id, level, _ = resolve_cgroup(str(group))
            filters = Filters(cgroup_id=cgroup_id, cgroup_level=level)
        source = live(Config(filters=filters))
        blocked = {call.tgid for call in source.read().inflight if call.lower_bound}
        assert wanted.pid in blocked
        assert other.pid not in blocked
        if kind != "uid":  # nothing else runs as nobody here; other processes may wait too
            assert blocked == {wanted.pid}
    finally:
        for workload in (wanted, other):
            workload.finish()
        if kind == "cgroup":
            group.rmdir()


def test_out_of_table_ids_are_counted_not_dropped(live, workload_factory) -> None:
    workload = workload_factory("--bad-nr=17")
    snapshot = run_and_measure(live(Config(filters=Filters(pids=(workload.pid,)))), workload)
    invalid = snapshot.syscall(INVALID_SLOT)
    assert invalid is not None
    assert invalid.count == 17
    assert dict(invalid.errnos) == {"ENOSYS": 17}


def test_sampling_every_call_carries_args_and_return(live, workload_factory) -> None:
    workload = workload_factory("--getppid=50")
    config = Config(
        sample_every=1, filters=Filters(pids=(workload.pid,), syscall_names=("getppid",))
    )
    snapshot = run_and_measure(live(config), workload)
    getppid_samples = [sample for sample in snapshot.samples if sample.name == "getppid"]
    assert len(getppid_samples) == 50 or len(snapshot.samples) == 64  # kept window is 64
    for sample in getppid_samples:
        assert sample.pid == workload.pid
        assert sample.ret == os.getpid()  # the workload's parent is this test process
        assert sample.errno is None
        assert sample.duration_ns is not None and sample.duration_ns > 0
        assert sample.comm == workload.name


def test_exit_group_counted_once_and_dead_process_reclaimed(live, workload_factory) -> None:
    workload = workload_factory("--getppid=10")
    source = live(Config(filters=Filters(pids=(workload.pid,))))
    before = source.read()
    workload.go()
    workload.finish()
    first = source.read()
    snapshot = build_snapshot(before, first, NAMES)
    assert counts(snapshot)["exit_group"] == 1
    assert counts(snapshot)["getppid"] == 10
    # The first read after its death carries its final counts and frees its entries.
    assert any(tgid == workload.pid for tgid, _ in first.processes)
    assert entries_in_map(source) == []
    second = source.read()
    assert second.processes == {}
    # Global per-syscall totals are untouched by the reclaim.
    assert second.syscalls[NAMES.slots_for("getppid")[0]].count == 10


def without_ended_list(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start sources as on a kernel whose sched_process_exit passes no group_dead: it refuses
    the attach of the program that lists ended processes."""
    from tui.sources import bcc_source

    real_attach = bcc_source._Loaded.attach_raw_tracepoint

    def attach(loaded: object, tracepoint: str, program: str = "") -> None:
        if program == bcc_source.END_PROGRAM:
            raise bcc_source.BpfLoadFailed("cannot attach: Invalid argument")
        real_attach(loaded, tracepoint, program)  # type: ignore[arg-type]

    monkeypatch.setattr(bcc_source._Loaded, "attach_raw_tracepoint", attach)


def test_process_dying_after_the_map_was_read_keeps_its_final_counts(
    live, workload_factory, monkeypatch
) -> None:
    """With no list of ended processes from the kernel: calls made between the map read and
    the process's death (found in /proc) are taken with its entries."""
    without_ended_list(monkeypatch)
    workload = workload_factory("--getppid=100", "--rounds=2")
    source = live(Config(filters=Filters(pids=(workload.pid,))))
    assert source._ended_reader is None
    workload.go()
    source.poll(0.05)
    reader = source._proc_reader
    stale = reader.read()  # what a read racing the second round and exit would have seen
    workload.go()
    workload.finish()
    real_read = reader.read
    reads = iter([stale])
    reader.read = lambda: next(reads, None) or real_read()  # only the first read is stale
    reading = source.read()
    getppid = NAMES.slots_for("getppid")[0]
    exit_group = NAMES.slots_for("exit_group")[0]
    assert reading.processes[(workload.pid, getppid)].counters.count == 200
    assert reading.processes[(workload.pid, exit_group)].counters.count == 1  # made after it
    assert workload.pid in reading.exited
    assert entries_in_map(source) == []


def test_a_process_ending_after_the_ended_list_was_read_is_taken_at_the_next_read(
    live, workload_factory
) -> None:
    """A process that ends between the read of the kernel's ended list and the map read is
    not taken from that map read (its counts there may not be final): the next read takes
    it, with its final counts."""
    workload = workload_factory("--getppid=100", "--rounds=2")
    source = live(Config(filters=Filters(pids=(workload.pid,))))
    assert source._ended_reader is not None
    source.read()  # the first read asks /proc too: not the case here
    workload.go()
    source.poll(0.05)
    ended = source._ended_reader
    stale = ended.read()  # read before the second round and the exit: it lists no end
    workload.go()
    workload.finish()
    real_read = ended.read
    reads = iter([stale])
    ended.read = lambda: next(reads, None) or real_read()  # only the first read is stale
    getppid = NAMES.slots_for("getppid")[0]
    exit_group = NAMES.slots_for("exit_group")[0]
    first = source.read()
    assert workload.pid not in first.exited
    assert (workload.pid, getppid) in {tuple(key) for key in entries_in_map(source)}
    second = source.read()
    assert second.processes[(workload.pid, getppid)].counters.count == 200
    assert second.processes[(workload.pid, exit_group)].counters.count == 1
    assert workload.pid in second.exited
    assert entries_in_map(source) == []


def wait_for_zombie(pid: int) -> None:
    """Wait until `pid` has exited and waits to be reaped (state Z)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            if stat.read().rpartition(b")")[2].split()[0] == b"Z":
                return
        time.sleep(0.01)
    raise AssertionError(f"pid {pid} did not exit")


@pytest.mark.parametrize("level", ["full", "counts"])
def test_an_ended_process_not_yet_reaped_is_taken_with_no_proc_look_up(
    live, workload_factory, monkeypatch, level: str
) -> None:
    """The kernel lists a process whose last thread left: the next read takes its final
    counts and marks it exited while it is still a zombie, and asks /proc nothing."""
    from tui.sources import bcc_source

    looked_up: list[int] = []
    real_gone = bcc_source._gone_from_proc

    def counting_gone(tgids):
        tgids = set(tgids)
        looked_up.extend(tgids)
        return real_gone(tgids)

    monkeypatch.setattr(bcc_source, "_gone_from_proc", counting_gone)
    workload = workload_factory("--getppid=100")
    quiet = {"sample_every": 0, "capture_rate": 0} if level == "counts" else {}
    source = live(Config(filters=Filters(pids=(workload.pid,)), level=level, **quiet))
    source.read()  # the first read asks /proc (for ends before the list's program attached)
    looked_up.clear()
    workload.go()
    assert workload.process.stdin
    workload.process.stdin.close()  # it exits; nobody reaps it until finish()
    wait_for_zombie(workload.pid)
    reading = source.read()
    getppid = NAMES.slots_for("getppid")[0]
    assert reading.processes[(workload.pid, getppid)].counters.count == 100
    assert workload.pid in reading.exited
    assert entries_in_map(source) == []
    assert looked_up == []
    workload.finish()


def test_ends_the_kernel_list_cannot_hold_are_found_in_proc(live, workload_factory) -> None:
    """A full list of ended processes counts what it could not hold; the read after that
    asks /proc, and takes a process whose end was not listed."""
    from tui.sources.bcc_source import _C

    workload = workload_factory("--getppid=100")
    source = live(Config(filters=Filters(pids=(workload.pid,))))
    source.read()
    # Full of processes that never were (tgids above pid_max): the workload's end is dropped.
    for tgid in range(4_200_000, 4_200_000 + _C["ENDED_ENTRIES"]):
        source._loaded.update("ended_processes", struct.pack("<I", tgid), b"\1")
    workload.go()
    workload.finish()  # ended and reaped
    reading = source.read()
    getppid = NAMES.slots_for("getppid")[0]
    assert reading.processes[(workload.pid, getppid)].counters.count == 100
    assert workload.pid in reading.exited
    assert entries_in_map(source) == []
    assert source._ended_dropped_reader.lookup(bytes(4)) == struct.pack("<Q", 1)
    assert source._ended_reader.read()[2] == 0  # what it held was taken and freed


def test_a_full_list_seen_by_an_early_take_still_makes_the_read_ask_proc(
    live, workload_factory
) -> None:
    """An early take that notices the full list asks /proc only about some processes (those
    the last read saw): the read after it asks about the rest."""
    from tui.sources.bcc_source import _C

    seen = workload_factory("--getppid=100")
    born_since = workload_factory("--getppid=50")
    source = live(Config(filters=Filters(pids=(seen.pid, born_since.pid))))
    seen.go()
    source.read()  # sees `seen` in the map; `born_since` has made no call yet
    for tgid in range(4_200_000, 4_200_000 + _C["ENDED_ENTRIES"]):
        source._loaded.update("ended_processes", struct.pack("<I", tgid), b"\1")
    seen.finish()
    born_since.go()
    born_since.finish()  # both ends dropped, both reaped
    source._take_gone_early()  # finds `seen` gone in /proc, and looks no further
    reading = source.read()
    getppid = NAMES.slots_for("getppid")[0]
    assert {seen.pid, born_since.pid} <= reading.exited
    assert reading.processes[(born_since.pid, getppid)].counters.count == 50
    assert reading.processes[(seen.pid, getppid)].counters.count == 100
    assert entries_in_map(source) == []


def test_batch_delete_frees_every_key_past_one_already_gone(live) -> None:
    """A key missing mid-batch (ENOENT from the kernel) does not stop the keys after it."""
    source = live(Config(filters=Filters(pids=(1,))))  # pid 1 is idle: the map stays ours
    from tui.sources.bcc_source import _PROC_SIZE

    for slot in range(5):
        source._loaded.update("proc_stats", struct.pack("<II", 4_000_000, slot), bytes(_PROC_SIZE))
    keys = b"".join(struct.pack("<II", 4_000_000, slot) for slot in (0, 1, 9, 3, 4))
    source._proc_reader.delete(keys)  # slot 9 never existed
    assert [slot for tgid, slot in entries_in_map(source) if tgid == 4_000_000] == [2]


def test_state_flag_does_not_leak_into_next_call(live, workload_factory) -> None:
    """Two rounds of work: counts of the second round are exact too (no stale enter state)."""
    workload = workload_factory("--getppid=100", "--sleeps=3", "--rounds=2")
    source = live(Config(filters=Filters(pids=(workload.pid,))))
    first = run_and_measure(source, workload)
    assert counts(first)["getppid"] == 100
    before = source.read()
    workload.go()
    snapshot = build_snapshot(before, source.read(), NAMES)
    assert counts(snapshot)["getppid"] == 100
    assert counts(snapshot)["clock_nanosleep"] == 3


def test_i386_compat_calls_are_decoded_with_the_i386_table(live, tmp_path) -> None:
    from tests.bpf.i386_elf import write_getppid_elf

    binary = write_getppid_elf(tmp_path / "getppid32", calls=41)
    import subprocess

    probe = subprocess.run([str(binary)], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"kernel cannot run i386 binaries (exit {probe.returncode})")
    source = live(Config(filters=Filters(comm=binary.name)))
    before = source.read()
    subprocess.run([str(binary)], check=True)
    snapshot = build_snapshot(before, source.read(), NAMES)
    compat = [row for row in snapshot.syscalls if row.compat and row.count]
    labels = {row.label: row.count for row in compat}
    assert labels.get("getppid (i386)") == 41
    assert labels.get("exit (i386)") == 1
    assert not any(row.name == "getppid" and not row.compat for row in snapshot.syscalls)


def test_concurrent_workloads_stay_exact_and_timed(live, workload_factory) -> None:
    """Four processes at once on two CPUs: the per-CPU fast path and the switch path agree."""
    workloads = [
        workload_factory("--getppid=20000", "--sleeps=20", "--sleep-ms=1") for _ in range(4)
    ]
    pids = tuple(workload.pid for workload in workloads)
    source = live(Config(filters=Filters(pids=pids)))
    before = source.read()
    for workload in workloads:
        workload.process.stdin.write("go\n")
        workload.process.stdin.flush()
    for workload in workloads:
        assert workload.process.stdout.readline().strip() == "done"
    snapshot = build_snapshot(before, source.read(), NAMES)
    assert counts(snapshot)["getppid"] == 4 * 20000
    sleeps = next(row for row in snapshot.syscalls if row.name == "clock_nanosleep")
    assert sleeps.count == 4 * 20
    assert sum(sleeps.hist) == 4 * 20  # every sleep was timed, across context switches
    assert sleeps.latency.avg_ns is not None and sleeps.latency.avg_ns >= 1_000_000
    for workload in workloads:
        process = snapshot.process(workload.pid)
        assert process is not None
        assert {c.name: c.count for c in process.syscalls}["getppid"] == 20000
    assert after_loss_is_clean(source)


def after_loss_is_clean(source: object) -> bool:
    loss = source.read().loss  # type: ignore[attr-defined]
    return loss.stale_cpu_state == 0 and loss.inflight_map_full == 0


def test_thread_blocked_in_read_is_in_flight_with_its_elapsed_time(live, workload_factory) -> None:
    """After "done" the workload blocks in read(0) on a pipe nobody writes to."""
    import time

    workload = workload_factory("--getppid=1")
    source = live(Config(filters=Filters(pids=(workload.pid,))))
    workload.go()
    blocked_since = time.monotonic()
    time.sleep(1.5)
    snapshot = build_snapshot(source.read(), source.read(), NAMES)
    elapsed_truth = time.monotonic() - blocked_since
    rows = [row for row in snapshot.inflight if row.tid == workload.pid]
    assert [row.name for row in rows] == ["read"]
    assert not rows[0].lower_bound
    assert abs(rows[0].elapsed_ns / 1e9 - elapsed_truth) < 0.25
    # Once the thread exits it is gone from the list.
    before_exit = source.read()
    workload.finish()
    after = build_snapshot(before_exit, source.read(), NAMES)
    assert not [row for row in after.inflight if row.tid == workload.pid]
    assert counts(after).get("read", 0) >= 1  # the blocked read returned (EOF) and counted


def test_thread_blocked_before_start_is_found_as_a_lower_bound(live, workload_factory) -> None:
    workload = workload_factory("--getppid=1")
    workload.go()  # now blocked in read(0) before any program is loaded
    source = live(Config(filters=Filters(pids=(workload.pid,))))
    snapshot = build_snapshot(source.read(), source.read(), NAMES)
    rows = [row for row in snapshot.inflight if row.tid == workload.pid]
    assert [(row.name, row.lower_bound) for row in rows] == [("read", True)]
    workload.finish()
    assert not [
        r
        for r in build_snapshot(source.read(), source.read(), NAMES).inflight
        if r.tid == workload.pid
    ]


def test_threads_blocked_before_start_leave_the_list_with_no_proc_look_up(
    live, workload_factory, monkeypatch
) -> None:
    """A server's idle pool waited in its calls before we attached: each read lists them
    without reading each one's /proc/.../syscall, and one that returns leaves the list at
    the next read (the kernel saw its exit)."""
    import tui.sources.bcc_source as bcc_source

    waiting = [workload_factory("--getppid=1") for _ in range(3)]
    for workload in waiting:
        workload.go()  # each blocked in read(0) before any program is loaded
    source = live(Config(filters=Filters(pids=tuple(w.pid for w in waiting))))
    looked_up: list[int] = []
    real_lookup = bcc_source._current_syscall

    def counting_lookup(tgid: int, tid: int) -> int | None:
        looked_up.append(tid)
        return real_lookup(tgid, tid)

    monkeypatch.setattr(bcc_source, "_current_syscall", counting_lookup)

    def blocked() -> set[int]:
        return {call.tid for call in source.read().inflight if call.lower_bound}

    pids = {w.pid for w in waiting}
    # They were found beside the compile: the first read asks /proc whether they still wait
    # (one may have returned before the programs were attached).
    assert blocked() == pids
    assert sorted(looked_up) == sorted(pids)
    # And /proc is scanned once more after the first frame, for threads that blocked while
    # the programs were loading.
    assert blocked() == pids
    assert blocked() == pids
    assert len(looked_up) > len(pids)
    looked_up.clear()
    waiting[0].finish()  # its read returns (EOF): an exit the kernel had no entry for
    assert blocked() == pids - {waiting[0].pid}
    assert blocked() == pids - {waiting[0].pid}
    assert looked_up == []
    source._reads_since_recheck = bcc_source.BLOCKED_RECHECK_READS  # the periodic check
    assert blocked() == pids - {waiting[0].pid}
    assert sorted(looked_up) == sorted(pids - {waiting[0].pid})


def test_a_thread_that_blocked_while_the_programs_loaded_is_found_after_the_first_frame(
    live, workload_factory
) -> None:
    """The scan beside the compile misses a thread that blocks before the programs attach
    (the kernel never sees it enter): the scan at the third read finds it."""
    from tui.sources.bcc_source import RESCAN_AT_READ

    workload = workload_factory("--getppid=1")
    workload.go()  # blocked in read(0) before any program is loaded
    source = live(Config(filters=Filters(pids=(workload.pid,))))
    del source._blocked_at_start[workload.pid]  # as if it blocked just after the scan
    found = [
        {call.tid for call in source.read().inflight if call.lower_bound}
        for _ in range(RESCAN_AT_READ)
    ]
    assert found == [set()] * (RESCAN_AT_READ - 1) + [{workload.pid}]
    workload.finish()


def test_blocked_threads_are_named_with_thread_wait_channel_target_and_real_age(
    live, workload_factory
) -> None:
    import time

    workload = workload_factory("--getppid=1")
    workload.go()  # blocked in read(0) on a pipe from before any program is loaded
    blocked_since = time.monotonic()
    time.sleep(2.0)
    source = live(Config(filters=Filters(pids=(workload.pid,))))
    snapshot = build_snapshot(source.read(), source.read(), NAMES)
    truth = time.monotonic() - blocked_since
    (row,) = [row for row in snapshot.inflight if row.tid == workload.pid]
    assert row.lower_bound and row.name == "read"
    # From when it last ran (/proc/TID/sched), not from when syscalltop first saw it, on
    # CLOCK_MONOTONIC: the scheduler clock of its CPU lags by that CPU's IRQ and steal time
    # since boot (half a second here after 4 hours), which used to be read as blocked time.
    assert 1.5 < row.elapsed_ns / 1e9 <= truth + 0.1
    assert row.thread == workload.name
    assert row.target.startswith("0<pipe:[") and row.target.endswith("]>")
    assert row.wchan  # where in the kernel it sleeps (a pipe read's wait)
    workload.finish()


def test_in_flight_threads_are_listed_with_no_proc_look_up_and_a_dead_one_leaves(
    live, workload_factory, monkeypatch
) -> None:
    """Threads parked in their calls are listed at each read without asking /proc whether
    each still lives (a pool of 2,000 threads: 2,000 stats a read); a thread that ends with
    state parked takes it with it (sched_process_exit), and a periodic check is the net."""
    import subprocess
    import sys
    import time

    import tui.sources.bcc_source as bcc_source

    waiting = [workload_factory("--getppid=1") for _ in range(3)]
    source = live(Config())
    for workload in waiting:
        workload.go()  # blocked in read(0), parked by sched_switch
    asked: list[int] = []
    real_lives = bcc_source._thread_lives

    def counting_lives(tid: int) -> bool:
        asked.append(tid)
        return real_lives(tid)

    monkeypatch.setattr(bcc_source, "_thread_lives", counting_lives)
    pids = {w.pid for w in waiting}
    deadline = time.monotonic() + 10
    while not pids <= {call.tid for call in source.read().inflight}:  # until all are blocked
        assert time.monotonic() < deadline
        time.sleep(0.05)
    asked.clear()
    for _ in range(3):
        assert pids <= {call.tid for call in source.read().inflight}
    assert not pids & set(asked)

    # A thread that dies with state parked (planted here: a spinning process makes no call).
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    loaded = source._loaded  # type: ignore[attr-defined]
    state = struct.pack("<QIIII", time.monotonic_ns(), spinner.pid, 0, 3, 0)
    loaded.update("inflight", struct.pack("<I", spinner.pid), state)
    spinner.kill()  # the process this test started, by its own handle
    spinner.wait()
    assert spinner.pid not in {tid for (tid,) in struct.iter_unpack("<I", inflight_keys(source))}

    # The net: an entry whose thread is gone (planted for a tid above pid_max, which no
    # thread can have) leaves the list at the periodic check.
    with open("/proc/sys/kernel/pid_max") as pid_max:
        nobody = int(pid_max.read()) + 1
    loaded.update("inflight", struct.pack("<I", nobody), state)
    assert nobody in {call.tid for call in source.read().inflight}
    source._reads = bcc_source.BLOCKED_RECHECK_READS - 1  # the next read checks
    assert nobody not in {call.tid for call in source.read().inflight}


def inflight_keys(source: object) -> bytes:
    """Return the packed tids in the in-flight map now."""
    keys, _, _ = source._inflight_reader.read()  # type: ignore[attr-defined]
    return keys
