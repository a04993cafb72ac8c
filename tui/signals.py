"""Stop signals as a flag: SIGTERM, SIGHUP and SIGINT end a run with 128 + signal, cleanly.

A handler that raised would land wherever the main thread is, including inside bcc's C
perf-buffer callback, where ctypes prints and swallows the exception and the run goes on.
Setting a flag that the loops check is the only way that is always seen.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


class Stopped(Exception):
    """A stop signal arrived during a step that waits in pure Python (see `raising`)."""


class StopRequest:
    """Set by the first stop signal; `event` wakes loops that wait, `signum` says which."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signum: int | None = None
        self.installed: tuple[int, ...] = ()
        self._raise = False

    @property
    def exit_code(self) -> int | None:
        """Return 128 + the signal's number once one arrived, else None."""
        return None if self.signum is None else 128 + self.signum

    def install(self) -> None:
        """Catch the stop signals (SIGINT only if not ignored, as shells leave background jobs)."""
        if not self.installed:
            self.installed = tuple(
                signum
                for signum in STOP_SIGNALS
                if not (signum == signal.SIGINT and signal.getsignal(signum) == signal.SIG_IGN)
            )
        for signum in self.installed:
            signal.signal(signum, self._arrived)

    @contextlib.contextmanager
    def raising(self) -> Iterator[None]:
        """Make a stop signal raise Stopped in here: a blocking read (a recording from a pipe)
        is retried after a handler that only sets the flag, and would wait on forever. Only for
        code with no C callbacks into Python."""
        if self.signum is not None:
            raise Stopped
        self._raise = True
        try:
            yield
        finally:
            self._raise = False

    def _arrived(self, signum: int, _frame: object) -> None:
        if self.signum is None:
            self.signum = signum
        self.event.set()
        if self._raise:
            raise Stopped
