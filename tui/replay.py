"""Replay navigation: snapshots of a recording by position, computed once and kept."""

from __future__ import annotations

from tui.model.anomaly import AnomalySettings
from tui.model.names import SyscallNames
from tui.model.snapshot import Snapshot, SnapshotStream
from tui.sources.recording import ReplaySource

SPEEDS = (1.0, 4.0, 16.0)


class ReplayController:
    """Position, speed and play state of a replay; snapshot i is the interval ending at i."""

    def __init__(
        self, source: ReplaySource, names: SyscallNames, settings: AnomalySettings
    ) -> None:
        self.source = source
        self.stream = SnapshotStream(names, source.describe, settings)
        self._snapshots: list[Snapshot] = []
        self.position = 1
        self.playing = True
        self.speed = SPEEDS[0]
        self.stream.push(self.source.read())

    @property
    def last(self) -> int:
        """Return the last position (one interval per reading after the first)."""
        return len(self.source.recording.frames) - 1

    def at(self, position: int) -> Snapshot:
        """Return the snapshot at a position, replaying the model forward as far as needed."""
        position = max(1, min(position, self.last))
        while len(self._snapshots) < position:
            snapshot = self.stream.push(self.source.read())
            assert snapshot is not None
            self._snapshots.append(snapshot)
        return self._snapshots[position - 1]

    def go(self, position: int) -> Snapshot:
        """Move to a position (clamped) and return its snapshot."""
        self.position = max(1, min(position, self.last))
        return self.at(self.position)

    def next_speed(self) -> float:
        """Cycle 1x → 4x → 16x."""
        self.speed = SPEEDS[(SPEEDS.index(self.speed) + 1) % len(SPEEDS)]
        return self.speed

    def describe(self) -> str:
        """Return the time bar's text."""
        from tui.export.batch import iso_time

        width = 20
        done = round(width * self.position / max(self.last, 1))
        state = "▶" if self.playing else "⏸"
        when = iso_time(self.at(self.position).wall_time)[:19].replace("T", " ")
        return (
            f" REPLAY {state} {self.speed:g}x [{'█' * done}{'░' * (width - done)}] "
            f"{self.position}/{self.last} {when} UTC | space play/pause  , . step  g G start/end"
            f"  f speed"
        )
