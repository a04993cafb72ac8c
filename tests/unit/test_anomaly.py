"""Anomaly detection on series of intervals: exactly the expected flags, and no false alarms."""

from __future__ import annotations

import random
from dataclasses import replace

from tui.model.anomaly import AnomalyDetector, AnomalySettings, Observation
from tui.model.names import SyscallNames
from tui.model.snapshot import SnapshotStream
from tui.sources.fake_source import FakeCall, FakeProcess, FakeSource

NAMES = SyscallNames("x86_64")


def rate(
    value: float,
    key: tuple = ("pid", 7, 110),
    kind: str = "rate",
    calls: int = 0,
    name: str = "getppid",
) -> Observation:
    return Observation(kind, key, value, name, 110, 7, "worker", calls)


def feed(detector: AnomalyDetector, values: list[float], **kwargs) -> list[list[str]]:
    found = []
    for index, value in enumerate(values):
        anomalies = detector.observe(float(index), [rate(value, **kwargs)], {})
        found.append([a.kind for a in anomalies])
    return found


def test_no_alarm_during_warmup_even_for_huge_jumps() -> None:
    detector = AnomalyDetector(AnomalySettings(warmup_intervals=5))
    assert feed(detector, [10, 10000, 10, 10000, 10]) == [[]] * 5


def test_rate_jump_of_100x_is_flagged_once_in_the_interval_it_happens() -> None:
    detector = AnomalyDetector()
    flags = feed(detector, [100.0] * 8 + [10000.0] * 4 + [100.0] * 3)
    assert flags[8] == ["rate"]
    assert all(f == [] for i, f in enumerate(flags) if i != 8)  # logged once, not every interval
    assert ("pid", 7, 110) not in detector.active_keys()  # back to normal at the end


def test_steady_noisy_load_for_a_minute_raises_nothing() -> None:
    generator = random.Random(4)
    detector = AnomalyDetector()
    values = [max(0.0, generator.gauss(1000, 60)) for _ in range(60)]
    assert feed(detector, values) == [[]] * 60


def test_low_rates_do_not_alarm_below_the_floor() -> None:
    detector = AnomalyDetector()
    assert feed(detector, [0.5] * 8 + [15.0]) == [[]] * 9  # x30 but under min_rate 50/s


def test_error_rate_spike() -> None:
    detector = AnomalyDetector()
    flags = feed(detector, [1.0] * 8 + [300.0], kind="errors", key=("sys", 2, "errors"))
    assert flags[-1] == ["errors"]


def test_latency_spike_needs_enough_calls() -> None:
    detector = AnomalyDetector()
    few = feed(
        detector, [2048.0] * 8 + [1 << 22], kind="latency", key=("sys", 0, "latency"), calls=10
    )
    assert few[-1] == []
    detector = AnomalyDetector()
    many = feed(
        detector, [2048.0] * 8 + [1 << 22], kind="latency", key=("sys", 0, "latency"), calls=500
    )
    assert many[-1] == ["latency"]


def test_novel_syscall_in_a_settled_process_with_security_emphasis() -> None:
    detector = AnomalyDetector()
    usual = [(0, "read"), (1, "write")]
    for index in range(8):
        assert detector.observe(float(index), [], {7: ("worker", usual)}) == []
    found = detector.observe(9.0, [], {7: ("worker", [*usual, (101, "ptrace"), (39, "getpid")])})
    assert sorted((a.kind, a.syscall, a.severity) for a in found) == [
        ("novel", "getpid", "normal"),
        ("novel", "ptrace", "high"),
    ]
    # A process seen for the first time is learning, not novel ...
    assert detector.observe(10.0, [], {8: ("newcomer", [(39, "getpid")])}) == []
    # ... except for first-sight calls: ptrace, bpf, setuid, mount, unshare, … at once.
    found = detector.observe(11.0, [], {8: ("newcomer", [(39, "getpid"), (101, "ptrace")])})
    assert [(a.kind, a.syscall, a.pid, a.severity) for a in found] == [
        ("novel", "ptrace", 8, "high")
    ]


def test_first_sight_calls_are_flagged_in_warm_up_and_for_short_lived_processes() -> None:
    detector = AnomalyDetector()
    assert detector.warming_up
    found = detector.observe(0.0, [], {9: ("dropper", [(321, "bpf"), (59, "execve")])}, {9})
    assert [(a.syscall, a.pid) for a in found] == [("bpf", 9)]  # execve is too common
    again = detector.observe(1.0, [], {10: ("x", [(321, "bpf")])})
    assert [(a.syscall, a.pid) for a in again] == [("bpf", 10)]
    assert detector.observe(2.0, [], {10: ("x", [(321, "bpf")])}) == []  # once per process


def test_reset_starts_warm_up_again() -> None:
    detector = AnomalyDetector()
    feed(detector, [100.0] * 8)
    detector.reset()
    assert detector.warming_up
    assert feed(detector, [10000.0]) == [[]]


def test_stream_flags_a_fake_process_that_jumps_and_not_its_neighbours() -> None:
    calm = FakeProcess(1, "calm", 0, (FakeCall(0, 500),))
    jumpy = FakeProcess(2, "jumpy", 0, (FakeCall(110, 100),))
    source = FakeSource(scenario=(calm, jumpy))
    stream = SnapshotStream(NAMES)
    seen = []
    for tick in range(16):
        if tick == 10:
            source.scenario = (calm, replace(jumpy, calls=(FakeCall(110, 10000),)))
        snapshot = stream.push(source.read())
        if snapshot is not None:
            seen.extend((tick, a.kind, a.pid, a.syscall) for a in snapshot.anomalies)
    assert (10, "rate", 2, "getppid") in seen
    assert not [entry for entry in seen if entry[2] == 1]
    assert all(tick in (10, 11) for tick, *_ in seen)


def test_latency_spikes_under_a_millisecond_are_not_alarms() -> None:
    detector = AnomalyDetector()
    flags = feed(
        detector, [500.0] * 8 + [400_000.0], kind="latency", key=("sys", 3, "latency"), calls=500
    )
    assert flags[-1] == []  # x800, but a 0.4 ms p99 is not "slow"


def test_waiting_syscalls_have_no_latency_series() -> None:
    from tui.model.snapshot import observations

    source, stream = FakeSource(), SnapshotStream(NAMES)
    stream.push(source.read())
    snapshot = stream.push(source.read())
    latency_names = {o.syscall for o in observations(snapshot) if o.kind == "latency"}
    assert "futex" not in latency_names and "epoll_wait" not in latency_names
    assert "openat" in latency_names


def test_routine_housekeeping_calls_are_never_novel() -> None:
    detector = AnomalyDetector()
    for index in range(8):
        detector.observe(float(index), [], {7: ("worker", [(0, "read")])})
    found = detector.observe(9.0, [], {7: ("worker", [(0, "read"), (12, "brk"), (9, "mmap")])})
    assert found == []


def test_incidents_are_episodes_with_start_peak_now_and_the_process_behind_them() -> None:
    from tui.model.names import SyscallNames
    from tui.model.snapshot import SnapshotStream
    from tui.sources.fake_source import FakeCall, FakeProcess, FakeSource

    burst = FakeProcess(
        77, "burst", 0, calls=(FakeCall(110, 100, surge_at_tick=9, surge_factor=100),)
    )
    quiet = FakeProcess(78, "quiet", 0, calls=(FakeCall(39, 50),))
    stream, source = SnapshotStream(SyscallNames("x86_64")), FakeSource(scenario=(burst, quiet))
    snapshots = [stream.push(source.read()) for _ in range(12)]
    last = snapshots[-1]
    assert last is not None
    rates = [i for i in last.incidents if i.kind == "rate" and i.syscall == "getppid"]
    assert rates and all(i.pid == 77 and i.comm == "burst" for i in rates)  # who is named
    episode = rates[0]
    assert episode.peak >= 50 * episode.baseline and episode.now > 0
    assert len({(i.kind, i.slot, i.pid) for i in last.incidents}) == len(last.incidents)
    assert last.active_incidents == sum(1 for i in last.incidents if i.active)
