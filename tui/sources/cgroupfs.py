"""cgroup v2 ids → paths, read from the cgroup2 mount (an id is its directory's inode)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tui.model.cgroups import Group, classify

REFRESH_AT_MOST_EVERY_S = 2.0
MAX_CGROUPS = 100_000


def walk_cgroups(root: Path, limit: int = MAX_CGROUPS) -> dict[int, str]:
    """Return {cgroup id: path relative to the mount ("/a/b")} of every cgroup under `root`."""
    found: dict[int, str] = {}
    pending = [(root, "/")]
    while pending and len(found) < limit:
        directory, relative = pending.pop()
        try:
            found[os.stat(directory).st_ino] = relative
            with os.scandir(directory) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        child = relative.rstrip("/") + "/" + entry.name
                        pending.append((Path(entry.path), child))
        except OSError:
            continue  # removed while we looked
    return found


class CgroupNames:
    """Name the cgroup ids the kernel reports; re-reads the mount when an unknown id appears."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self._paths: dict[int, str] = {}
        self._groups: dict[int, Group] = {}
        self._read_at = -REFRESH_AT_MOST_EVERY_S

    def group(self, cgroup_id: int) -> Group | None:
        """Return the group of `cgroup_id`, or None when it is unknown (or gone)."""
        if not cgroup_id or self.root is None:
            return None
        if cgroup_id in self._groups:
            return self._groups[cgroup_id]
        stale = time.monotonic() - self._read_at >= REFRESH_AT_MOST_EVERY_S
        if cgroup_id not in self._paths and stale:
            self._paths = walk_cgroups(self.root)
            self._read_at = time.monotonic()
            self._groups = {k: v for k, v in self._groups.items() if k in self._paths}
        path = self._paths.get(cgroup_id)
        if path is None:
            return None
        group = self._groups[cgroup_id] = classify(path)
        return group


def find_cgroups(root: Path, wanted: str, kinds: tuple[str, ...]) -> list[tuple[int, str]]:
    """Return (id, path) of the cgroups of `kinds` whose id, id prefix or name is `wanted`."""
    found = []
    for cgroup_id, path in walk_cgroups(root).items():
        group = classify(path)
        if group.kind not in kinds:
            continue
        names = {group.id, group.name, group.path, os.path.basename(path)}
        if wanted in names or (len(wanted) >= 6 and group.id.startswith(wanted)):
            found.append((cgroup_id, path))
    return sorted(found, key=lambda item: item[1])
