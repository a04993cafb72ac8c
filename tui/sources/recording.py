"""Recordings: every raw reading as a JSON line, written safely, and read back for replay."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.model.readings import (
    HIST_BUCKETS,
    CallCounters,
    InflightCall,
    LossCounters,
    ProcessCallCounters,
    RawReading,
    SampleEvent,
)
from tui.model.snapshot import DescribeProcess, ProcessIdentity
from tui.safe_files import SafeFileError, open_new_file

FORMAT = "syscalltop-recording"
VERSION = 1


class RecordingError(SafeFileError):
    """A recording cannot be written or read; the message is one line."""


# -- encoding --------------------------------------------------------------------------------


def _hist(values: tuple[int, ...]) -> dict[str, int]:
    return {str(bucket): count for bucket, count in enumerate(values) if count}


def _unhist(sparse: dict[str, int]) -> tuple[int, ...]:
    values = [0] * HIST_BUCKETS
    for bucket, count in sparse.items():
        values[int(bucket)] = int(count)
    return tuple(values)


def _counters(c: CallCounters) -> list[Any]:
    return [c.count, c.errors, c.latency_sum_ns, c.latency_max_ns, _hist(c.latency_hist)]


def _uncounters(v: list[Any]) -> CallCounters:
    return CallCounters(int(v[0]), int(v[1]), int(v[2]), int(v[3]), _unhist(v[4]))


def encode_reading(reading: RawReading, identities: dict[int, ProcessIdentity]) -> str:
    """Return one reading (and the identities shown with it) as a JSON line."""
    loss = reading.loss
    record = {
        "t": reading.monotonic_ns,
        "wall": reading.wall_time,
        "sys": {str(slot): _counters(c) for slot, c in reading.syscalls.items()},
        "errno": [[slot, value, count] for (slot, value), count in reading.errnos.items()],
        "proc": [
            [e.tgid, e.slot, e.uid, e.comm, *_counters(e.counters)]
            for e in reading.processes.values()
        ],
        "loss": [
            loss.lost_samples,
            loss.proc_map_full,
            loss.errno_map_full,
            loss.untimed_exits,
            loss.inflight_map_full,
            loss.stale_cpu_state,
        ],
        "samples": [
            [
                s.exit_ns,
                s.duration_ns,
                s.cgroup_id,
                s.ret,
                list(s.args),
                s.tgid,
                s.tid,
                s.uid,
                s.cpu,
                s.slot,
                s.timed,
                s.comm,
            ]
            for s in reading.samples
        ],
        "inflight": [[c.tid, c.tgid, c.slot, c.enter_ns, c.lower_bound] for c in reading.inflight],
        "exited": sorted(reading.exited),
        "who": {str(pid): [i.comm, i.user, i.cmdline] for pid, i in identities.items()},
    }
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def decode_reading(line: str) -> tuple[RawReading, dict[int, ProcessIdentity]]:
    """Return the reading and identities of one JSON line; raise ValueError if malformed."""
    record = json.loads(line)
    processes: dict[tuple[int, int], ProcessCallCounters] = {}
    for entry in record["proc"]:
        tgid, slot, uid, comm = int(entry[0]), int(entry[1]), int(entry[2]), str(entry[3])
        processes[(tgid, slot)] = ProcessCallCounters(tgid, slot, uid, comm, _uncounters(entry[4:]))
    reading = RawReading(
        monotonic_ns=int(record["t"]),
        wall_time=float(record["wall"]),
        syscalls={int(slot): _uncounters(v) for slot, v in record["sys"].items()},
        errnos={(int(s), int(e)): int(n) for s, e, n in record["errno"]},
        processes=processes,
        loss=LossCounters(*map(int, record["loss"])),
        samples=tuple(
            SampleEvent(
                int(s[0]),
                int(s[1]),
                int(s[2]),
                int(s[3]),
                tuple(map(int, s[4])),
                int(s[5]),
                int(s[6]),
                int(s[7]),
                int(s[8]),
                int(s[9]),
                bool(s[10]),
                str(s[11]),
            )
            for s in record["samples"]
        ),
        inflight=tuple(
            InflightCall(int(c[0]), int(c[1]), int(c[2]), int(c[3]), bool(c[4]))
            for c in record["inflight"]
        ),
        # Recordings made before exits were marked have no "exited": none are then.
        exited=frozenset(map(int, record.get("exited", ()))),
    )
    who = {
        int(pid): ProcessIdentity(str(v[0]), str(v[1]), str(v[2]))
        for pid, v in record["who"].items()
    }
    return reading, who


# -- writing ---------------------------------------------------------------------------------


def open_recording(path: Path, force: bool) -> int:
    """Open `path` for a new recording (0600); refuse links, unsafe dirs and overwrites."""
    try:
        return open_new_file(path, force, "recording")
    except SafeFileError as error:
        raise RecordingError(str(error)) from None


class Recorder:
    """Append readings to a recording, one complete line per interval, flushed each time."""

    def __init__(self, path: Path, header: dict[str, Any], force: bool = False) -> None:
        self.path = path
        self._fd = open_recording(path, force)
        self._write({"format": FORMAT, "version": VERSION, **header})

    def _write(self, record: dict[str, Any] | str) -> None:
        line = record if isinstance(record, str) else json.dumps(record, separators=(",", ":"))
        # One write per line: after a kill -9 the file holds whole lines up to the last one.
        os.write(self._fd, (line + "\n").encode("utf-8"))

    def record(self, reading: RawReading, identities: dict[int, ProcessIdentity]) -> None:
        """Append one reading."""
        self._write(encode_reading(reading, identities))

    def close(self) -> None:
        """Close the file (safe twice)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class CapturingDescribe:
    """Wrap a describe function and remember what it answered since the last take()."""

    def __init__(self, describe: DescribeProcess) -> None:
        self._describe = describe
        self._seen: dict[int, ProcessIdentity] = {}

    def __call__(self, pid: int, uid: int, kernel_comm: str) -> ProcessIdentity:
        identity = self._describe(pid, uid, kernel_comm)
        self._seen[pid] = identity
        return identity

    def take(self) -> dict[int, ProcessIdentity]:
        """Return and forget the identities answered since the last call."""
        seen, self._seen = self._seen, {}
        return seen


# -- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recording:
    """A recording read from disk: header, readings with identities, and any damage found."""

    path: Path
    header: dict[str, Any]
    frames: list[tuple[RawReading, dict[int, ProcessIdentity]]]
    damage: str | None


def load_recording(path: Path) -> Recording:
    """Read a recording; a damaged line ends it there and is reported, the rest is kept."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise RecordingError(f"cannot read {path}: {error.strerror}") from None
    lines = raw.split(b"\n")
    try:
        header = json.loads(lines[0])
        if header.get("format") != FORMAT:
            raise ValueError("not a syscalltop recording")
        if header.get("version") != VERSION:
            raise ValueError(f"format version {header.get('version')}, expected {VERSION}")
    except (ValueError, AttributeError, UnicodeDecodeError) as error:
        raise RecordingError(f"{path}:1: {error}") from None
    frames: list[tuple[RawReading, dict[int, ProcessIdentity]]] = []
    damage = None
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            if number != len(lines):
                damage = f"{path}:{number}: empty line"
                break
            continue
        try:
            frames.append(decode_reading(line.decode("utf-8")))
        except (ValueError, KeyError, IndexError, TypeError, UnicodeDecodeError) as error:
            truncated = number == len(lines) and not raw.endswith(b"\n")
            what = "truncated last line" if truncated else f"bad reading ({error})"
            damage = f"{path}:{number}: {what}"
            break
    if not frames:
        raise RecordingError(damage or f"{path}: no readings in the recording")
    return Recording(path, header, frames, damage)


class ReplaySource:
    """Replays a recording through the same model: one reading per read()."""

    label = "replay"

    def __init__(self, recording: Recording, speed: float = 1.0) -> None:
        self.recording = recording
        self.speed = speed
        self.position = 0
        self.headers = None

    @property
    def interval_s(self) -> float:
        """Return the recorded interval."""
        return float(self.recording.header.get("interval_s", 1.0))

    @property
    def finished(self) -> bool:
        """Return True when every reading has been read."""
        return self.position >= len(self.recording.frames)

    def start(self) -> None:
        """Nothing to load: the recording was read already."""

    def close(self) -> None:
        """Nothing to release."""

    def poll(self, timeout_s: float) -> None:
        """Wait like the live source would, sped up by `speed`."""
        time.sleep(max(timeout_s, 0.0) / max(self.speed, 0.01))

    def read(self) -> RawReading:
        """Return the next reading (the last one again once the recording is over)."""
        index = min(self.position, len(self.recording.frames) - 1)
        self.position += 1
        return self.recording.frames[index][0]

    def describe(self, pid: int, uid: int, kernel_comm: str) -> ProcessIdentity:
        """Answer with the identity recorded with the reading read last (as shown live)."""
        index = min(max(self.position - 1, 0), len(self.recording.frames) - 1)
        who = self.recording.frames[index][1]
        return who.get(pid, ProcessIdentity(kernel_comm, str(uid)))
