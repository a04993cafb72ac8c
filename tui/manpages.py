"""One-line syscall descriptions from the system's man pages (`man -f`), never made up."""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import lru_cache

_LINE = re.compile(r"^(?P<name>\S+)\s+\((?P<section>2)[^)]*\)\s+-\s+(?P<text>.+)$")


@lru_cache(maxsize=512)
def describe_syscall(name: str) -> str | None:
    """Return the section-2 whatis line of a syscall, or None without man pages."""
    if not re.fullmatch(r"[a-z0-9_]+", name) or shutil.which("man") is None:
        return None
    try:
        result = subprocess.run(
            ["man", "-f", name], capture_output=True, text=True, timeout=2, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in result.stdout.splitlines():
        match = _LINE.match(line.strip())
        if match and match["name"] == name:
            return match["text"].strip()
    return None
