"""Notice a terminal that went away (a dropped SSH session) and end the run, never spin."""

from __future__ import annotations

import select
import threading
from collections.abc import Callable, Sequence

HANGUP_EVENTS = select.POLLHUP | select.POLLERR | select.POLLNVAL
WATCH_PERIOD_S = 0.2


def terminal_gone(fds: Sequence[int]) -> bool:
    """Return True when any of `fds` is hung up, broken or closed (without reading from it)."""
    poller = select.poll()
    for fd in fds:
        poller.register(fd, select.POLLIN)
    return any(events & HANGUP_EVENTS for _fd, events in poller.poll(0))


def watch_terminal(
    fds: Sequence[int], on_hangup: Callable[[], None], period_s: float = WATCH_PERIOD_S
) -> threading.Thread:
    """Start a daemon thread that calls `on_hangup` once, when the terminal is gone."""

    # Textual's input thread reads EOF from a hung-up pty in a tight loop and never stops,
    # so this has to be noticed from outside it.
    def watch() -> None:
        stopping = threading.Event()
        while not stopping.wait(period_s):
            if terminal_gone(fds):
                on_hangup()
                return

    thread = threading.Thread(target=watch, name="terminal-watch", daemon=True)
    thread.start()
    return thread
