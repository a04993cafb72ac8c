"""Recordings: every raw reading as a JSON line, written safely, and read back for replay."""

from __future__ import annotations

import contextlib
import json
import math
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import Any, BinaryIO

from tui.config import MAX_INTERVAL_S, MIN_INTERVAL_S
from tui.model.histogram import FINE_BUCKETS
from tui.model.names import INVALID_SLOT
from tui.model.readings import (
    HIST_BUCKETS,
    REASON_BITS,
    CallCounters,
    CaptureCounts,
    InflightCall,
    LossCounters,
    ProcessCallCounters,
    RawReading,
    SampleEvent,
)
from tui.model.sanitize import CMDLINE_MAX, MAX_TEXT_LEN, safe_text
from tui.model.snapshot import DescribeProcess, ProcessIdentity
from tui.safe_files import SafeFileError, open_new_file

FORMAT = "syscalltop-recording"
VERSION = 1


class RecordingError(SafeFileError):
    """A recording cannot be written or read; the message is one line."""


# -- encoding --------------------------------------------------------------------------------


def _hist(values: tuple[int, ...]) -> dict[str, int]:
    return {str(bucket): count for bucket, count in enumerate(values) if count}


def _counters(c: CallCounters) -> list[Any]:
    return [c.count, c.errors, c.latency_sum_ns, c.latency_max_ns, _hist(c.latency_hist)]


def _syscall_counters(c: CallCounters) -> list[Any]:
    """The five counters, then (where the source knew them) the interval max and the fine
    histogram: recordings made before them have five."""
    if c.interval_max_ns is None and not c.fine_hist:
        return _counters(c)
    fine = _hist(c.fine_hist) if c.fine_hist else None
    return [*_counters(c), c.interval_max_ns, fine]


def encode_reading(reading: RawReading, identities: dict[int, ProcessIdentity]) -> str:
    """Return one reading (and the identities shown with it) as a JSON line."""
    loss = reading.loss
    record = {
        "t": reading.monotonic_ns,
        "wall": reading.wall_time,
        "sys": {str(slot): _syscall_counters(c) for slot, c in reading.syscalls.items()},
        "errno": [[slot, value, count] for (slot, value), count in reading.errnos.items()],
        "proc": [
            [e.tgid, e.slot, e.uid, e.comm, *_counters(e.counters), e.cgroup_id]
            + ([] if e.counters.interval_max_ns is None else [e.counters.interval_max_ns])
            for e in reading.processes.values()
        ],
        "loss": [
            loss.lost_samples,
            loss.proc_map_full,
            loss.errno_map_full,
            loss.untimed_exits,
            loss.inflight_map_full,
            loss.stale_cpu_state,
            loss.events_dropped,
            loss.samples_throttled,
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
                s.reasons,
                # Raw bytes as latin-1: lossless, and still valid JSON text.
                [raw.decode("latin-1") for raw in s.strings],
                list(s.truncated),
                s.addr.hex(),
                [list(pair) for pair in s.fd_targets],
                s.argv_more,
            ]
            for s in reading.samples
        ],
        "cap": {str(slot): list(astuple(c)) for slot, c in reading.captures.items()},
        "inflight": [
            [c.tid, c.tgid, c.slot, c.enter_ns, c.lower_bound, c.thread, c.wchan, c.target]
            for c in reading.inflight
        ],
        "exited": sorted(reading.exited),
        "who": {
            str(pid): [i.comm, i.user, i.cmdline, i.seccomp, i.ppid]
            for pid, i in identities.items()
        },
        "grp": {str(cgroup_id): path for cgroup_id, path in reading.cgroup_paths.items()},
    }
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


# -- reading: every field is checked, every string sanitized (a recording is as hostile as a
# process), so a crafted file gives one line naming where it is wrong, never a traceback.

MAX_LINE_BYTES = 64 << 20  # a reading of a full 1M-entry process map stays well below this
U32 = 1 << 32
U64 = 1 << 64
MAX_WALL_TIME = 1e11  # the year 5138: a wall clock beyond it is not a real one
MAX_STRINGS, MAX_STRING_BYTES, MAX_ADDR_BYTES = 4, 256, 128  # what the kernel side reads
REASONS_LIMIT = 2 * max(REASON_BITS)  # every REASON_* bit may be set, nothing above
MAX_CPUS = 65536


def _uint(value: Any, limit: int = U64) -> int:
    if type(value) is not int or not 0 <= value < limit:
        raise ValueError(f"{_short(value)} is not a count below {limit}")
    return value


def _sint(value: Any) -> int:
    if type(value) is not int or not -(1 << 63) <= value < 1 << 63:
        raise ValueError(f"{_short(value)} is not a 64-bit integer")
    return value


def _flag(value: Any) -> bool:
    if type(value) is not bool:
        raise ValueError(f"{_short(value)} is not true or false")
    return value


def _list(value: Any, length: int | None = None) -> list[Any]:
    if type(value) is not list or (length is not None and len(value) < length):
        raise ValueError(f"{_short(value)} is not a list" + (f" of {length}" if length else ""))
    return value


def _dict(value: Any) -> dict[str, Any]:
    if type(value) is not dict:
        raise ValueError(f"{_short(value)} is not an object")
    return value


def _text(value: Any, max_len: int = MAX_TEXT_LEN) -> str:
    if type(value) is not str:
        raise ValueError(f"{_short(value)} is not a string")
    return safe_text(value, max_len)


def _short(value: Any) -> str:
    return safe_text(repr(value), 40)


def _slot(value: Any) -> int:
    return _uint(value, INVALID_SLOT + 1)


def _json(line: str) -> Any:
    """Parse strict JSON: no NaN or Infinity, no float overflow, no giant integers."""

    def finite(text: str) -> float:
        number = float(text)
        if not math.isfinite(number):
            raise ValueError(f"number {text[:40]} is out of range")
        return number

    def bounded_int(text: str) -> int:
        if len(text) > 20:
            raise ValueError(f"integer {text[:20]}… is out of range")
        return int(text)

    def no_constant(text: str) -> Any:
        raise ValueError(f"{text} is not a number")

    return json.loads(line, parse_float=finite, parse_int=bounded_int, parse_constant=no_constant)


def _hist_of(value: Any, buckets: int = HIST_BUCKETS) -> tuple[int, ...]:
    values = [0] * buckets
    for bucket, count in _dict(value).items():
        if not bucket.isdigit() or int(bucket) >= buckets:
            raise ValueError(f"histogram bucket {_short(bucket)} out of range")
        values[int(bucket)] = _uint(count)
    return tuple(values)


def _counters_of(value: Any, interval_max: Any = None) -> CallCounters:
    v = _list(value, 5)
    return CallCounters(
        _uint(v[0]),
        _uint(v[1]),
        _uint(v[2]),
        _uint(v[3]),
        _hist_of(v[4]),
        interval_max_ns=None if interval_max is None else _uint(interval_max),
    )


def _syscall_counters_of(value: Any) -> CallCounters:
    v = _list(value, 5)
    counters = _counters_of(v[:5], v[5] if len(v) > 5 else None)
    if len(v) > 6 and v[6] is not None:
        counters = counters._replace(fine_hist=_hist_of(v[6], FINE_BUCKETS))
    return counters


def decode_reading(line: str) -> tuple[RawReading, dict[int, ProcessIdentity]]:
    """Return the reading and identities of one JSON line; raise ValueError if malformed."""
    try:
        return _decode_reading(_dict(_json(line)))
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except KeyError as error:
        raise ValueError(f"no {_short(error.args[0])} field") from None


def _decode_reading(record: dict[str, Any]) -> tuple[RawReading, dict[int, ProcessIdentity]]:
    processes: dict[tuple[int, int], ProcessCallCounters] = {}
    for entry in _list(record["proc"]):
        entry = _list(entry, 9)
        tgid, slot, uid = _uint(entry[0], U32), _slot(entry[1]), _uint(entry[2], U32)
        comm = _text(entry[3], 64)
        # Recordings made before attribution have no cgroup id (0: unknown).
        cgroup_id = _uint(entry[9]) if len(entry) > 9 else 0
        interval_max = entry[10] if len(entry) > 10 else None
        processes[(tgid, slot)] = ProcessCallCounters(
            tgid, slot, uid, comm, _counters_of(entry[4:9], interval_max), cgroup_id
        )
    loss = _list(record["loss"])
    if len(loss) > len(fields(LossCounters)):
        raise ValueError("too many loss counters")
    wall = record["wall"]
    if type(wall) not in (int, float) or not 0 <= wall < MAX_WALL_TIME:
        raise ValueError(f"wall time {_short(wall)} out of range")
    reading = RawReading(
        monotonic_ns=_uint(record["t"], 1 << 63),
        wall_time=float(wall),
        syscalls={
            _slot(int(slot) if slot.isdigit() else -1): _syscall_counters_of(v)
            for slot, v in _dict(record["sys"]).items()
        },
        errnos={
            (_slot(e[0]), _uint(e[1], U32)): _uint(e[2])
            for e in map(lambda item: _list(item, 3), _list(record["errno"]))
        },
        processes=processes,
        loss=LossCounters(*map(_uint, loss)),
        samples=tuple(_sample(_list(s, 12)) for s in _list(record["samples"])),
        inflight=tuple(
            InflightCall(
                _uint(c[0], U32),
                _uint(c[1], U32),
                _slot(c[2]),
                _uint(c[3]),
                _flag(c[4]),
                *(_text(text, 200) for text in c[5:8]),
            )
            for c in map(lambda item: _list(item, 5), _list(record["inflight"]))
        ),
        # Recordings made before exits were marked have no "exited": none are then.
        exited=frozenset(_uint(pid, U32) for pid in _list(record.get("exited", []))),
        cgroup_paths={
            _uint(int(key) if key.isdigit() else -1): _text(path, 1024)
            for key, path in _dict(record.get("grp", {})).items()
        },
        captures={
            _slot(int(slot) if slot.isdigit() else -1): CaptureCounts(
                *(_uint(n) for n in _list(counts, 4)[:4])
            )
            for slot, counts in _dict(record.get("cap", {})).items()
        },
    )
    who = {}
    for pid, v in _dict(record["who"]).items():
        if not pid.isdigit() or int(pid) >= U32:
            raise ValueError(f"pid {_short(pid)} out of range")
        v = _list(v, 3)
        seccomp = _text(v[3], 16) if len(v) > 3 else ""
        ppid = _uint(v[4], U32) if len(v) > 4 else 0
        who[int(pid)] = ProcessIdentity(
            _text(v[0], 64), _text(v[1], 32), _text(v[2], CMDLINE_MAX), seccomp, ppid
        )
    return reading, who


def _strings(value: Any) -> tuple[bytes, ...]:
    strings = _list(value)
    if len(strings) > MAX_STRINGS:
        raise ValueError("too many strings in a sample")
    found = []
    for text in strings:
        if type(text) is not str or len(text) > MAX_STRING_BYTES:
            raise ValueError(f"{_short(text)} is not a captured string")
        found.append(text.encode("latin-1", "replace"))  # more than a byte each: hostile
    return tuple(found)


def _sample(s: list[Any]) -> SampleEvent:
    args = _list(s[4])
    # Samples recorded before captures have 12 fields: sampled, nothing read.
    extra = s[12:17] if len(s) >= 17 else [1, [], [], "", []]
    addr_hex = extra[3]
    if type(addr_hex) is not str or len(addr_hex) > 2 * MAX_ADDR_BYTES:
        raise ValueError(f"{_short(addr_hex)} is not a socket address")
    fd_targets = tuple(
        (_uint(pair[0], 6), _text(pair[1], 200))
        for pair in map(lambda p: _list(p, 2), _list(extra[4]))
    )
    return SampleEvent(
        _uint(s[0]),
        _uint(s[1]),
        _uint(s[2]),
        _sint(s[3]),
        tuple(_uint(a) for a in args[:6]),
        _uint(s[5], U32),
        _uint(s[6], U32),
        _uint(s[7], U32),
        _uint(s[8], U32),
        _slot(s[9]),
        _flag(s[10]),
        _text(s[11], 64),
        reasons=_uint(extra[0], REASONS_LIMIT),
        strings=_strings(extra[1]),
        truncated=tuple(_flag(t) for t in _list(extra[2])),
        addr=bytes.fromhex(addr_hex),
        fd_targets=fd_targets,
        argv_more=_flag(s[17]) if len(s) >= 18 else False,
    )


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
        self._size = 0
        self._write({"format": FORMAT, "version": VERSION, **header})

    def _write(self, record: dict[str, Any] | str) -> None:
        line = record if isinstance(record, str) else json.dumps(record, separators=(",", ":"))
        data = (line + "\n").encode("utf-8")
        try:
            # One write per line: after a kill -9 the file holds whole lines up to the last one.
            written = os.write(self._fd, data)
            while written < len(data):  # a short write (the disk filling up) goes on
                written += os.write(self._fd, data[written:])
        except OSError as error:
            # Cut the half-written line: what was recorded before stays whole and replays.
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._size)
            self.close()
            raise RecordingError(f"stopped recording to {self.path}: {error.strerror}") from None
        self._size += len(data)

    @property
    def closed(self) -> bool:
        """Return True once closed (by close() or by a failed write)."""
        return self._fd < 0

    def record(self, reading: RawReading, identities: dict[int, ProcessIdentity]) -> None:
        """Append one reading; raise RecordingError (once) when the file cannot take it."""
        if not self.closed:
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

    def __call__(self, pid: int, uid: int, kernel_comm: str, gone: bool = False) -> ProcessIdentity:
        identity = self._describe(pid, uid, kernel_comm, gone)
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


def _header_of(line: bytes) -> dict[str, Any]:
    header = _dict(_json(line.decode("utf-8")))
    if header.get("format") != FORMAT:
        raise ValueError("not a syscalltop recording")
    version = header.get("version")
    if type(version) is not int or version != VERSION:
        raise ValueError(f"format version {_short(version)}, expected {VERSION} (a number)")
    interval = header.get("interval_s", 1.0)
    if type(interval) not in (int, float) or not MIN_INTERVAL_S <= interval <= MAX_INTERVAL_S:
        raise ValueError(
            f"interval_s {_short(interval)} out of range ({MIN_INTERVAL_S} to {MAX_INTERVAL_S})"
        )
    # The facts the status line shows: optional, but what is there has its type and range,
    # and its strings are sanitized here, where they enter.
    checked: dict[str, Any] = dict(header)
    for key in ("host", "kernel", "arch", "filters"):
        if key in header:
            checked[key] = _field(key, _text, header[key])
    if header.get("cpus") is not None:  # os.cpu_count() may not know
        checked["cpus"] = _field("cpus", lambda v: _uint(v, MAX_CPUS + 1), header["cpus"])
        if not checked["cpus"]:
            raise ValueError(f"cpus 0 out of range (1 to {MAX_CPUS})")
    if "sample_every" in header:
        checked["sample_every"] = _field(
            "sample_every", lambda v: _uint(v, 1 << 31), header["sample_every"]
        )
    return checked


def _field(key: str, check: Any, value: Any) -> Any:
    try:
        return check(value)
    except ValueError as error:
        raise ValueError(f"{key}: {error}") from None


def _lines(stream: BinaryIO) -> Iterator[tuple[bytes, bool]]:
    """Yield (line, complete) pairs; a line past MAX_LINE_BYTES raises ValueError."""
    while True:
        line = stream.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_LINE_BYTES:
            raise ValueError(f"line longer than {MAX_LINE_BYTES} bytes")
        yield line.rstrip(b"\n"), line.endswith(b"\n")


def load_recording(path: Path) -> Recording:
    """Read a recording line by line; a damaged line ends it there and is reported."""
    try:
        stream = open(path, "rb")  # noqa: SIM115 (closed below, after the checks)
    except OSError as error:
        raise RecordingError(f"cannot read {path}: {error.strerror}") from None
    with stream:
        kind = os.fstat(stream.fileno()).st_mode
        if not (stat.S_ISREG(kind) or stat.S_ISFIFO(kind)):
            raise RecordingError(f"cannot replay {path}: not a regular file")
        return _read_recording(path, stream)


def _read_recording(path: Path, stream: BinaryIO) -> Recording:
    lines = _lines(stream)
    try:
        first, _ = next(lines)
        header = _header_of(first)
    except StopIteration:
        raise RecordingError(f"{path}: empty file, not a recording") from None
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise RecordingError(f"{path}:1: {safe_text(str(error), 120)}") from None
    frames: list[tuple[RawReading, dict[int, ProcessIdentity]]] = []
    damage = None
    number = 1
    try:
        pending_blank = None
        for number, (line, complete) in enumerate(lines, start=2):
            if not line.strip():
                pending_blank = number  # only a blank line before more data is damage
                continue
            if pending_blank is not None:
                damage = f"{path}:{pending_blank}: empty line"
                break
            try:
                reading, who = decode_reading(line.decode("utf-8"))
            except (ValueError, UnicodeDecodeError) as error:
                what = "truncated last line" if not complete else f"bad reading ({error})"
                damage = f"{path}:{number}: {safe_text(what, 160)}"
                break
            if frames and reading.monotonic_ns < frames[-1][0].monotonic_ns:
                damage = f"{path}:{number}: time goes backwards"
                break
            frames.append((reading, who))
    except ValueError as error:  # a line over the size cap
        damage = f"{path}:{number + 1}: {error}"
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
    def recorded_on(self) -> dict[str, Any]:
        """Return the recorded machine's facts (host, kernel, cpus, filters, sample_every)."""
        return self.recording.header

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

    def describe(self, pid: int, uid: int, kernel_comm: str, gone: bool = False) -> ProcessIdentity:
        """Answer with the identity recorded with the reading read last (as shown live)."""
        index = min(max(self.position - 1, 0), len(self.recording.frames) - 1)
        who = self.recording.frames[index][1]
        return who.get(pid, ProcessIdentity(kernel_comm, str(uid)))
