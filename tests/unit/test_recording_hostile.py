"""Crafted recordings: every bad field is one line naming file and line; what came before
replays; every string comes out sanitized. And --force replaces, never reuses, a file."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import pytest

from tests.unit.test_recording import record_fake
from tui.sources import recording as module
from tui.sources.recording import Recorder, RecordingError, load_recording

OSC52 = "\x1b]52;c;QQ==\x07"


def lines_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def write(path: Path, records: list) -> None:
    path.write_text("".join(r if isinstance(r, str) else json.dumps(r) + "\n" for r in records))


@pytest.fixture
def good(tmp_path: Path) -> tuple[Path, list[dict]]:
    path = tmp_path / "good.jsonl"
    record_fake(path, intervals=4)
    return path, lines_of(path)


@pytest.mark.parametrize(
    ("interval", "message"),
    [(-1, "interval_s -1 out of range"), (0, "interval_s 0 out of range"), ("1", "interval_s '1'")],
)
def test_header_interval_out_of_range_is_refused(good, tmp_path, interval, message) -> None:
    path, records = good
    records[0]["interval_s"] = interval
    write(path, records)
    with pytest.raises(RecordingError, match=f"{path.name}:1: {message}"):
        load_recording(path)


def test_version_as_a_string_says_so(good) -> None:
    path, records = good
    records[0]["version"] = "1"
    write(path, records)
    with pytest.raises(RecordingError) as caught:
        load_recording(path)
    assert str(caught.value) == f"{path}:1: format version '1', expected 1 (a number)"


def test_nan_and_overflowing_numbers_in_the_header(good) -> None:
    path, _records = good
    text = path.read_text().splitlines(keepends=True)
    for bad in ("NaN", "1e400", "Infinity", "1" * 400):
        path.write_text(
            text[0].replace('"interval_s":1.0', f'"interval_s":{bad}') + "".join(text[1:])
        )
        with pytest.raises(RecordingError, match=f"{path.name}:1: "):
            load_recording(path)


@pytest.mark.parametrize(
    "damage",
    [
        lambda r: r.update(t=10**400),
        lambda r: r.update(t=-5),
        lambda r: r.update(wall=float("nan")),
        lambda r: r.update(sys=[1, 2, 3]),
        lambda r: r.update(proc={"a": 1}),
        lambda r: r.update(loss=[1, 2, 3, 4, 5, 6, 7, 8, 9]),
        lambda r: r.update(samples=[[0] * 4]),
        lambda r: r.update(who={"1": [1, 2, 3]}),
        lambda r: r.update(who={"-1": ["a", "b", "c"]}),
        lambda r: r["sys"].update({"99999": [1, 0, 0, 0, {}]}),
        lambda r: r["sys"].update({"0": [1, 0, 0, 0, {"64": 1}]}),
        lambda r: r["sys"].update({"0": [True, 0, 0, 0, {}]}),
        lambda r: r.pop("proc"),
    ],
)
def test_bad_fields_in_a_reading_end_the_replay_there(good, damage) -> None:
    path, records = good
    damage(records[3])
    write(path, records)
    recording = load_recording(path)
    assert len(recording.frames) == 2  # the readings before it replay
    assert recording.damage is not None and recording.damage.startswith(f"{path}:4: bad reading")
    assert "\n" not in recording.damage


def test_deep_nesting_and_numbers_json_allows_but_are_not_real(good) -> None:
    path, _records = good
    text = path.read_text().splitlines(keepends=True)
    text[2] = "[" * 100_000 + "]" * 100_000 + "\n"
    text[3] = text[3].replace('"t":', '"t":1e400,"x":', 1)
    path.write_text("".join(text))
    recording = load_recording(path)
    assert len(recording.frames) == 1
    assert recording.damage is not None and recording.damage.startswith(f"{path}:3: bad reading")


def test_time_going_backwards_is_damage(good) -> None:
    path, records = good
    records[3]["t"] = records[2]["t"] - 1
    write(path, records)
    recording = load_recording(path)
    assert len(recording.frames) == 2
    assert recording.damage == f"{path}:4: time goes backwards"


def test_a_line_past_the_cap_is_refused_without_reading_it_all(good, monkeypatch) -> None:
    path, _records = good
    monkeypatch.setattr(module, "MAX_LINE_BYTES", 4096)
    with path.open("a") as out:
        out.write("x" * 100_000)
    recording = load_recording(path)
    assert len(recording.frames) == 4
    assert recording.damage == f"{path}:6: line longer than 4096 bytes"


def test_devices_and_directories_are_not_replayed(tmp_path) -> None:
    for path in (Path("/dev/zero"), tmp_path):
        with pytest.raises(RecordingError, match=r"not a regular file|Is a directory"):
            load_recording(path)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(RecordingError, match="empty file"):
        load_recording(empty)


def test_every_string_of_a_recording_comes_out_sanitized(good) -> None:
    path, records = good
    reading = records[2]
    reading["proc"][0][3] = OSC52 + "\u009b2J"
    reading["who"] = {str(reading["proc"][0][0]): [OSC52, "\u202eroot", "\x1b[2J" + "A" * 5000]}
    if reading["samples"]:
        reading["samples"][0][11] = "[bold red]x\x07"
    write(path, records)
    frame, who = load_recording(path).frames[1]
    texts = [e.comm for e in frame.processes.values()] + [s.comm for s in frame.samples]
    texts += [
        t for identity in who.values() for t in (identity.comm, identity.user, identity.cmdline)
    ]
    assert texts
    for text in texts:
        assert all(ch.isprintable() for ch in text), repr(text)
    identity = next(iter(who.values()))
    assert identity.comm == "\\x1b]52;c;QQ==\\x07"
    assert identity.user == "\\u202eroot"
    assert len(identity.cmdline) <= 512 and identity.cmdline.endswith("…")


# -- writing: --force replaces with a new private file, never reuses what is there --------


def test_force_replaces_another_users_world_readable_file_with_a_new_private_one(tmp_path) -> None:
    path = tmp_path / "run.jsonl"
    path.write_text("theirs\n")
    os.chmod(path, 0o666)
    os.chown(path, 65534, 65534)
    before = os.stat(path)
    Recorder(path, {"interval_s": 1.0}, force=True).close()
    after = os.stat(path)
    assert after.st_ino != before.st_ino
    assert stat.S_IMODE(after.st_mode) == 0o600 and after.st_uid == os.geteuid()
    assert lines_of(path)[0]["format"] == "syscalltop-recording"
    assert [p.name for p in tmp_path.iterdir()] == ["run.jsonl"]  # no temporary left behind


def test_force_refuses_a_fifo_and_never_blocks_on_it(tmp_path) -> None:
    fifo = tmp_path / "run.jsonl"
    os.mkfifo(fifo)
    for force in (False, True):
        with pytest.raises(RecordingError, match="not a regular file"):
            Recorder(fifo, {}, force=force)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_dangling_symlink_is_named_as_a_symlink(tmp_path) -> None:
    link = tmp_path / "run.jsonl"
    link.symlink_to(tmp_path / "nowhere")
    with pytest.raises(RecordingError, match="symlink"):
        Recorder(link, {})


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("host", ["prod"], "host: ['prod'] is not a string"),
        ("cpus", "64", "cpus: '64' is not"),
        ("cpus", 0, "cpus 0 out of range"),
        ("cpus", 10**6, "cpus: 1000000"),
        ("sample_every", -1, "sample_every: -1"),
        ("filters", {"pid": 1}, "filters: {'pid': 1} is not a string"),
    ],
)
def test_the_recorded_machines_facts_have_their_types(good, key, value, message) -> None:
    path, records = good
    records[0][key] = value
    write(path, records)
    with pytest.raises(RecordingError, match=re.escape(f"{path.name}:1: {message}")):
        load_recording(path)


def test_the_recorded_machines_names_are_sanitized_where_they_enter(good) -> None:
    path, records = good
    records[0]["host"] = OSC52 + "prod-db-7"
    records[0]["kernel"] = "\x1b[2J5.10.0"
    write(path, records)
    header = load_recording(path).header
    assert header["host"] == "\\x1b]52;c;QQ==\\x07prod-db-7"
    assert header["kernel"] == "\\x1b[2J5.10.0"


def test_every_reason_a_call_was_sent_for_round_trips_and_no_more(good) -> None:
    from tui.model.readings import REASON_BITS

    path, records = good
    reading = next(r for r in records[1:] if r.get("samples"))
    every = sum(REASON_BITS)
    reading["samples"][0][12] = every  # failed, first, new-errno…: all of them at once
    write(path, records)
    recording = load_recording(path)
    assert recording.damage is None
    assert any(s.reasons == every for frame, _who in recording.frames for s in frame.samples)
    reading["samples"][0][12] = 2 * max(REASON_BITS)  # a bit no kernel side sets
    write(path, records)
    try:
        damage = load_recording(path).damage
    except RecordingError as error:  # nothing before it to replay
        damage = str(error)
    assert "is not a count below" in str(damage)
