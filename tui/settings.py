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
from dataclasses import dataclass, fields
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


def _number(path: Path, data: dict[str, object], name: str, what: str) -> float | None:
    """Return a setting that must be a finite number (as its flag would), or None if unset."""
    value = data.get(name)
    if value is None:
        return None
    if type(value) not in (int, float) or not math.isfinite(value):  # type: ignore[arg-type]
        raise UsageError(f"{path}: {name} must be {what}")
    return float(value)  # type: ignore[arg-type]


def _settings(path: Path, data: dict[str, object]) -> Settings:
    known = {setting.name for setting in fields(Settings)}
    unknown = sorted(set(data) - known)
    if unknown:
        names = ", ".join(sorted(known))
        raise UsageError(f"{path}: unknown setting {unknown[0]!r} (known: {names})")
    theme = data.get("theme")
    if theme is not None and theme not in ("dark", "light"):
        raise UsageError(f"{path}: theme must be 'dark' or 'light'")
    sort = data.get("sort")
    if sort is not None and sort not in SORTABLE:
        raise UsageError(f"{path}: sort must be one of {', '.join(SORTABLE)}")
    hidden = data.get("hidden_columns", [])
    if not isinstance(hidden, list) or not all(isinstance(h, str) for h in hidden):
        raise UsageError(f"{path}: hidden_columns must be a list of column names")
    return Settings(
        theme=theme,
        interval=_number(path, data, "interval", "a number of seconds"),
        sort=sort,
        hidden_columns=tuple(hidden),
        sensitivity=_number(path, data, "sensitivity", "a number"),
    )
