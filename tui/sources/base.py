"""What every source of readings provides: live BPF, fake, or a recording."""

from __future__ import annotations

from typing import Protocol

from tui.model.readings import RawReading


class Source(Protocol):
    """A source of cumulative readings."""

    label: str

    def start(self) -> None:
        """Get ready to read (load programs, open files); raise with a one-line message."""

    def poll(self, timeout_s: float) -> None:
        """Wait up to `timeout_s`, collecting whatever arrives meanwhile."""

    def read(self) -> RawReading:
        """Return the counters as they are now."""

    def close(self) -> None:
        """Release everything; safe to call twice."""
