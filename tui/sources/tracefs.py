"""The running kernel's syscall prototypes, from tracefs when it is mounted."""

from __future__ import annotations

from pathlib import Path

from tui.model.prototypes import Prototype, parse_format, shipped_prototypes

TRACEFS_EVENTS = (
    Path("/sys/kernel/tracing/events/syscalls"),
    Path("/sys/kernel/debug/tracing/events/syscalls"),
)


def kernel_prototypes(roots: tuple[Path, ...] = TRACEFS_EVENTS) -> tuple[dict[str, Prototype], str]:
    """Return the prototypes of this kernel (tracefs) or the shipped table, and which it is."""
    for root in roots:
        try:
            formats = sorted(root.glob("sys_enter_*/format"))
        except OSError:
            continue
        found: dict[str, Prototype] = {}
        for path in formats:
            try:
                prototype = parse_format(path.read_text())
            except (OSError, ValueError):
                continue
            found[prototype.name] = prototype
        if found:
            # A syscall tracefs lacks keeps the shipped entry.
            return {**shipped_prototypes(), **found}, f"tracefs ({root})"
    return dict(shipped_prototypes()), "shipped table"
