"""The S key: the screen as SVG and the interval as JSON, written as new private files."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tui.export.batch import json_line
from tui.model.snapshot import Snapshot
from tui.safe_files import open_new_file


def save_view(snapshot: Snapshot, svg: str, directory: str, force: bool) -> Path:
    """Write `syscalltop-<time>.json` and `.svg` into `directory`; return the common stem."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(snapshot.wall_time))
    base = free_stem(Path(directory) / f"syscalltop-{stamp}", force)
    for path, text in (
        (base.with_suffix(".json"), json_line(snapshot)),
        (base.with_suffix(".svg"), svg),
    ):
        fd = open_new_file(path, force, "saved view")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text + "\n")
    return base


def free_stem(base: Path, force: bool) -> Path:
    """Return `base`, or `base-2`, `base-3`… when a view of that interval was saved already."""
    if force:
        return base
    for number in range(1, 1000):
        stem = base if number == 1 else base.with_name(f"{base.name}-{number}")
        if not any(os.path.lexists(stem.with_suffix(s)) for s in (".json", ".svg")):
            return stem
    return base  # a thousand saves of one interval: let the safe write refuse the next
