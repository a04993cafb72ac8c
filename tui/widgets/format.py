"""Compact number, duration and sparkline formatting for narrow table cells."""

from __future__ import annotations

from collections.abc import Sequence

SPARK_CHARS = "▁▂▃▄▅▆▇█"


def compact(value: float) -> str:
    """Return a count or rate in at most 6 characters: 950, 12.3k, 4.5M."""
    if value < 0:
        return "-" + compact(-value)
    if value < 10 and value != int(value):
        return f"{value:.1f}"
    if value < 1000:
        return f"{value:.0f}"
    for unit, scale in (("k", 1e3), ("M", 1e6), ("G", 1e9)):
        if value < scale * 1000:
            scaled = value / scale
            return f"{scaled:.1f}{unit}" if scaled < 100 else f"{scaled:.0f}{unit}"
    return f"{value / 1e12:.0f}T"


def duration(ns: int | None) -> str:
    """Return a duration in at most 7 characters: 850ns, 12.3us, 4.1ms, 2.00s."""
    if ns is None:
        return "-"
    if ns < 1_000:
        return f"{ns}ns"
    if ns < 1_000_000:
        return f"{ns / 1e3:.1f}us" if ns < 100_000 else f"{ns / 1e3:.0f}us"
    if ns < 1_000_000_000:
        return f"{ns / 1e6:.1f}ms" if ns < 100_000_000 else f"{ns / 1e6:.0f}ms"
    return f"{ns / 1e9:.2f}s"


def percent(value: float) -> str:
    """Return a percentage with one decimal, blank for zero."""
    return f"{value:.1f}" if value else ""


def sparkline(values: Sequence[float], width: int) -> str:
    """Return the last `width` values as block characters scaled to their own maximum."""
    tail = list(values)[-width:]
    if not tail:
        return ""
    top = max(tail)
    if top <= 0:
        return SPARK_CHARS[0] * len(tail)
    steps = len(SPARK_CHARS) - 1
    return "".join(SPARK_CHARS[round(value / top * steps)] for value in tail)


def bar(count: int, largest: int, width: int) -> str:
    """Return a horizontal bar of `width` cells at most, proportional to count/largest."""
    if largest <= 0 or count <= 0:
        return ""
    cells = max(1, round(count / largest * width))
    return "█" * cells
