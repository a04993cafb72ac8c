"""One-line syscall descriptions from the system's man pages (`man -f`), never made up."""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from functools import lru_cache

# The look-ups this process started (from worker threads): hidden from its own tables.
_SPAWNED: set[int] = set()
_SPAWNED_LOCK = threading.Lock()
SPAWNED_KEPT = 1024


def spawned() -> frozenset[int]:
    """Return the pids of the man-page look-ups started so far."""
    with _SPAWNED_LOCK:
        return frozenset(_SPAWNED)


_LINE = re.compile(r"^(?P<name>\S+)\s+\((?P<section>2)[^)]*\)\s+-\s+(?P<text>.+)$")


@lru_cache(maxsize=512)
def describe_syscall(name: str) -> str | None:
    """Return the section-2 whatis line of a syscall, or None without man pages."""
    if not re.fullmatch(r"[a-z0-9_]+", name) or shutil.which("man") is None:
        return None
    try:
        with subprocess.Popen(
            ["man", "-f", name], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        ) as lookup:
            with _SPAWNED_LOCK:
                if len(_SPAWNED) < SPAWNED_KEPT:
                    _SPAWNED.add(lookup.pid)
            try:
                output, _ = lookup.communicate(timeout=2)
            except subprocess.TimeoutExpired:
                lookup.kill()
                return None
    except OSError:
        return None
    for line in output.splitlines():
        match = _LINE.match(line.strip())
        if match and match["name"] == name:
            return match["text"].strip()
    return None
