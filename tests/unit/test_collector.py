"""The collector's pacing: a baseline reading, a short first interval, then steady ones."""

from __future__ import annotations

import threading

from tui.collector import paced_readings
from tui.sources.fake_source import FakeSource


class ClockedSource(FakeSource):
    """A fake source whose poll advances a fake clock: pacing without real sleeps."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 100.0
        self.read_at: list[float] = []

    def poll(self, timeout_s: float) -> None:
        self.now += timeout_s

    def read(self):  # type: ignore[no-untyped-def]
        self.read_at.append(self.now)
        return super().read()


def gaps(first_interval_s: float | None) -> list[float]:
    source = ClockedSource()
    clock = lambda: source.now  # noqa: E731
    readings = paced_readings(source, lambda: 1.0, threading.Event(), first_interval_s, clock)
    for _ in range(4):
        next(readings)
    return [round(b - a, 6) for a, b in zip(source.read_at, source.read_at[1:], strict=False)]


def test_the_first_interval_is_short_so_the_first_frame_comes_soon() -> None:
    """The dashboard's first live frame needs two readings: the second comes 0.25 s after
    the baseline, not a whole interval later; the rest keep the interval."""
    assert gaps(0.25) == [0.25, 1.0, 1.0]


def test_without_a_first_interval_every_interval_is_the_same() -> None:
    assert gaps(None) == [1.0, 1.0, 1.0]
