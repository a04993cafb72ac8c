"""Recordings: exact round trip, safe writing, and damaged files reported by line."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from tui.model.snapshot import ProcessIdentity
from tui.sources.fake_source import FakeSource
from tui.sources.recording import (
    Recorder,
    RecordingError,
    ReplaySource,
    decode_reading,
    encode_reading,
    load_recording,
)


def record_fake(path: Path, intervals: int = 5) -> list:
    source = FakeSource()
    readings = [source.read() for _ in range(intervals)]
    recorder = Recorder(path, {"interval_s": 1.0})
    for reading in readings:
        recorder.record(reading, {4242: ProcessIdentity("nginx", "www-data", "nginx: worker")})
    recorder.close()
    return readings


def test_round_trip_is_exact(tmp_path: Path) -> None:
    reading = replace(FakeSource().read(), exited=frozenset({7, 4242}))
    again, who = decode_reading(encode_reading(reading, {1: ProcessIdentity("a", "b", "c")}))
    assert again == reading
    assert who == {1: ProcessIdentity("a", "b", "c")}


def test_recordings_from_before_exits_were_marked_still_load() -> None:
    line = encode_reading(FakeSource().read(), {})
    record = json.loads(line)
    del record["exited"]
    reading, _ = decode_reading(json.dumps(record))
    assert reading.exited == frozenset()


def test_recording_replays_every_reading(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    readings = record_fake(path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    recording = load_recording(path)
    assert recording.damage is None
    assert [frame[0] for frame in recording.frames] == readings
    replay = ReplaySource(recording)
    assert [replay.read() for _ in readings] == readings
    assert replay.finished
    assert replay.describe(4242, 33, "x") == ProcessIdentity("nginx", "www-data", "nginx: worker")


def test_never_overwrites_without_force(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    record_fake(path)
    with pytest.raises(RecordingError, match="exists; not overwriting"):
        Recorder(path, {})
    Recorder(path, {}, force=True).close()
    assert path.read_text().count("\n") == 1  # header only: truncated on purpose


def test_refuses_symlinks_and_world_writable_dirs(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    with pytest.raises(RecordingError, match="symlink"):
        Recorder(link, {}, force=True)
    assert not target.exists()
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    with pytest.raises(RecordingError, match="world-writable"):
        Recorder(shared / "run.jsonl", {})
    Recorder(shared / "run.jsonl", {}, force=True).close()


def test_damaged_line_is_reported_and_the_rest_replays(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    record_fake(path, intervals=5)
    lines = path.read_text().splitlines(keepends=True)
    lines[3] = '{"t": "oops"\n'
    path.write_text("".join(lines))
    recording = load_recording(path)
    assert len(recording.frames) == 2
    assert recording.damage is not None and recording.damage.startswith(f"{path}:4: bad reading")


def test_truncated_last_line_after_kill(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    record_fake(path, intervals=4)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])  # cut in the middle of the last line
    recording = load_recording(path)
    assert len(recording.frames) == 3
    assert recording.damage == f"{path}:5: truncated last line"


def test_not_a_recording(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    with pytest.raises(RecordingError, match=r"notes.txt:1:"):
        load_recording(path)


def test_captured_calls_round_trip_with_their_strings_addresses_and_budget() -> None:
    from tui.model.readings import REASON_FAILED, CaptureCounts, SampleEvent

    event = SampleEvent(
        exit_ns=5,
        duration_ns=7,
        cgroup_id=1,
        ret=-2,
        args=(1, 2, 3, 4, 5, 6),
        tgid=10,
        tid=11,
        uid=0,
        cpu=1,
        slot=257,
        timed=True,
        comm="nginx",
        reasons=REASON_FAILED,
        strings=(b"/etc/x", b"\xff\x1b[2J raw bytes"),
        truncated=(False, True),
        addr=b"\x02\x00\x17\x6f\x7f\x00\x00\x01",
        argv_more=True,
        fd_targets=((0, "TCP 127.0.0.1:1->127.0.0.1:2"),),
    )
    reading = replace(
        FakeSource().read(), samples=(event,), captures={257: CaptureCounts(1, 2, 3, 4)}
    )
    again, _ = decode_reading(encode_reading(reading, {}))
    assert again == reading


def test_interval_maxima_and_fine_histograms_round_trip() -> None:
    """Replay shows the precision the live run had: fine percentiles and interval maxima."""
    from tui.model.histogram import FINE_BUCKETS, fine_index

    reading = FakeSource().read()
    fine = [0] * FINE_BUCKETS
    fine[fine_index(585_000)] = 600
    fine[fine_index(10_100_000)] = 300
    slot, counters = next(iter(reading.syscalls.items()))
    syscalls = dict(reading.syscalls)
    syscalls[slot] = counters._replace(interval_max_ns=10_280_000, fine_hist=tuple(fine))
    pair, entry = next(iter(reading.processes.items()))
    processes = dict(reading.processes)
    processes[pair] = entry._replace(counters=entry.counters._replace(interval_max_ns=777))
    precise = replace(reading, syscalls=syscalls, processes=processes)
    again, _ = decode_reading(encode_reading(precise, {}))
    assert again == precise
    record = json.loads(encode_reading(precise, {}))
    record["sys"][str(slot)][6] = {str(FINE_BUCKETS): 1}
    with pytest.raises(ValueError, match="out of range"):
        decode_reading(json.dumps(record))
