"""Lasting settings from ~/.config/syscalltop/config.toml (XDG): the defaults the flags override.

theme = "light"          # dark | light
interval = 2.0           # seconds
sort = "errors"          # the Top syscalls column to sort by
hidden_columns = ["nr", "share"]
sensitivity = 6.0
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from tui.errors import UsageError

SORTABLE = (
    *("name", "nr", "rate", "errors", "errno", "avg"),
    *("p99", "trend", "share", "error_pct", "max"),
)


@dataclass(frozen=True, slots=True)
class Settings:
    """What a config file may set; None means "not set there"."""

    theme: str | None = None
    interval: float | None = None
    sort: str | None = None
    hidden_columns: tuple[str, ...] = ()
    sensitivity: float | None = None


def config_path() -> Path:
    """Return $XDG_CONFIG_HOME/syscalltop/config.toml (or ~/.config/...)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "syscalltop" / "config.toml"


def load_settings(path: Path | None = None) -> Settings:
    """Read the config file; a missing one is no settings, a bad one is one UsageError line."""
    path = path or config_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Settings()
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None
    try:
        import tomllib
    except ImportError:  # Python 3.10: no TOML reader in the standard library
        return Settings()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise UsageError(f"{path}: {error}") from None
    return _settings(path, data)


def _settings(path: Path, data: dict[str, object]) -> Settings:
    known = {"theme", "interval", "sort", "hidden_columns", "sensitivity"}
    unknown = sorted(set(data) - known)
    if unknown:
        names = ", ".join(sorted(known))
        raise UsageError(f"{path}: unknown setting {unknown[0]!r} (known: {names})")
    theme = data.get("theme")
    if theme is not None and theme not in ("dark", "light"):
        raise UsageError(f"{path}: theme must be 'dark' or 'light'")
    interval = data.get("interval")
    if interval is not None and (
        type(interval) not in (int, float) or not math.isfinite(float(interval))  # type: ignore[arg-type]
    ):
        raise UsageError(f"{path}: interval must be a number of seconds")
    sort = data.get("sort")
    if sort is not None and sort not in SORTABLE:
        raise UsageError(f"{path}: sort must be one of {', '.join(SORTABLE)}")
    hidden = data.get("hidden_columns", [])
    if not isinstance(hidden, list) or not all(isinstance(h, str) for h in hidden):
        raise UsageError(f"{path}: hidden_columns must be a list of column names")
    sensitivity = data.get("sensitivity")
    if sensitivity is not None and type(sensitivity) not in (int, float):
        raise UsageError(f"{path}: sensitivity must be a number")
    return Settings(
        theme=theme,
        interval=float(interval) if interval is not None else None,  # type: ignore[arg-type]
        sort=sort,
        hidden_columns=tuple(hidden),
        sensitivity=float(sensitivity) if sensitivity is not None else None,  # type: ignore[arg-type]
    )
