"""Benchmarks for README: each prints its table and keeps it in results/."""

from __future__ import annotations

from pathlib import Path


def publish(lines: list[str], path: Path) -> None:
    """Print a result table and keep it at `path` (tests/bench/results/)."""
    table = "\n".join(lines) + "\n"
    print(table)
    path.write_text(table)
