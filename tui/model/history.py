"""Recent rates per syscall and per process, for trend sparklines."""

from __future__ import annotations

from collections import deque
from collections.abc import Container

TREND_POINTS = 24


class RateHistory:
    """Keep the last few interval rates of each key; forget keys idle for a whole window."""

    def __init__(self, points: int = TREND_POINTS) -> None:
        self.points = points
        self._series: dict[object, deque[float]] = {}

    def record(self, rates: dict[object, float]) -> None:
        """Append this interval's rate of every key (0 for keys seen before but idle now)."""
        for key in list(self._series):
            if key not in rates:
                series = self._series[key]
                series.append(0.0)
                if not any(series):
                    del self._series[key]
        for key, rate in rates.items():
            series = self._series.setdefault(key, deque(maxlen=self.points))
            series.append(rate)

    def forget_gone(self, alive: Container[object]) -> None:
        """Drop the series of keys that no longer exist (processes that exited)."""
        for key in [key for key in self._series if key not in alive]:
            del self._series[key]

    def series(self, key: object) -> tuple[float, ...]:
        """Return the recorded rates of a key, oldest first."""
        return tuple(self._series.get(key, ()))
