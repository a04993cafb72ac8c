"""The collector: one thread, steady period, the only caller of a source while it runs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

from tui.model.readings import RawReading
from tui.sources.base import Source

MIN_INTERVAL_S = 0.1
MAX_INTERVAL_S = 60.0
# A stop request or a changed interval is seen within one slice.
POLL_SLICE_S = 0.25


def paced_readings(
    source: Source,
    interval_s: Callable[[], float],
    stopping: threading.Event,
    first_interval_s: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[RawReading]:
    """Yield a baseline reading, then one per interval, sleeping `interval - elapsed`; the
    first interval may be shorter (a first frame soon after start, rates per second)."""
    yield source.read()
    first = interval_s() if first_interval_s is None else min(first_interval_s, interval_s())
    deadline = clock() + first
    while not stopping.is_set():
        remaining = deadline - clock()
        while remaining > 0 and not stopping.is_set():
            # Poll in slices: the perf buffer drains meanwhile, and stopping stays prompt.
            source.poll(min(remaining, POLL_SLICE_S))
            remaining = deadline - clock()
        if stopping.is_set() or getattr(source, "finished", False):
            return  # a replay that reached its end stops, rather than repeating its last frame
        yield source.read()
        now = clock()
        deadline += interval_s()
        if deadline < now:  # fell behind (suspended, overloaded): never overlap ticks
            deadline = now + interval_s()


class Collector:
    """Run a source on a background thread and hand each reading to a callback."""

    def __init__(
        self,
        source: Source,
        interval_s: float,
        on_reading: Callable[[RawReading], None],
        on_failure: Callable[[BaseException], None],
        first_interval_s: float | None = None,
    ) -> None:
        self.source = source
        self._first_interval_s = first_interval_s
        self._interval_s = interval_s
        self._on_reading = on_reading
        self._on_failure = on_failure
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="collector", daemon=True)

    @property
    def interval_s(self) -> float:
        """Return the current period."""
        return self._interval_s

    def set_interval(self, interval_s: float) -> None:
        """Change the period, clamped to a sane range; takes effect from the next tick."""
        self._interval_s = min(max(interval_s, MIN_INTERVAL_S), MAX_INTERVAL_S)

    def start(self) -> None:
        """Start collecting."""
        self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Ask the thread to stop and wait for it."""
        self._stopping.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        try:
            readings = paced_readings(
                self.source, lambda: self._interval_s, self._stopping, self._first_interval_s
            )
            for reading in readings:
                self._on_reading(reading)
        except BaseException as error:  # reported to the UI, which restores the terminal
            self._on_failure(error)
