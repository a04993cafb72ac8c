"""Turn the text of one flag into its value, or raise UsageError naming what is wrong."""

from __future__ import annotations

import os

from tui.errors import UsageError
from tui.model.names import SyscallNames, errno_known, errno_value
from tui.system import resolve_uid

MAX_UID = (1 << 32) - 2  # (uid_t)-1 means "no uid"


def int_list(text: str, what: str) -> tuple[int, ...]:
    """Return the pids or tids of a comma list, each a live one."""
    values: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part.isascii() or not part.isdigit() or not 0 < int(part) < 1 << 32:
            raise UsageError(f"bad {what} {part!r}: expected positive numbers separated by commas")
        values.append(int(part))
    for value in values:
        if not os.path.exists(f"/proc/{value}"):
            raise UsageError(f"no {'process' if what == 'pid' else 'thread'} with {what} {value}")
    return tuple(values)


def syscall_names(text: str, names: SyscallNames) -> tuple[str, ...]:
    """Return the syscall names of a comma list, each known on this architecture."""
    chosen = tuple(name.strip() for name in text.split(","))
    for name in chosen:
        if not name:
            raise UsageError(f"empty name in --syscall {text!r}")
        if not names.known(name):
            raise UsageError(f"unknown syscall {name!r} for {names.arch} (see syscalltop --list)")
    return chosen


def errno(text: str) -> int:
    """Return the errno a name (ENOENT) or a number names."""
    try:
        value = int(text) if text.isascii() and text.isdigit() else errno_value(text)
    except KeyError:
        raise UsageError(f"unknown errno {text!r} (e.g. ENOENT, EAGAIN)") from None
    if not errno_known(value):
        raise UsageError(f"bad errno {value}: no errno has that number (e.g. 2 for ENOENT)")
    return value


def uid(text: str) -> int:
    """Return the uid a login name or a number names."""
    value = resolve_uid(text.strip())
    if not 0 <= value <= MAX_UID:
        raise UsageError(f"bad uid {value}: use 0 to {MAX_UID}")
    return value


def comm(text: str) -> str:
    """Return the task name as the kernel holds it: its first 15 bytes."""
    # The kernel keeps 15 bytes of a task name, as bytes: match what it can hold, and keep
    # bytes that are not UTF-8 (they arrive here as surrogate escapes) as the bytes they were.
    return os.fsdecode(os.fsencode(text)[:15])
