"""cgroup v2 ids → paths, read from the cgroup2 mount (an id is its directory's inode)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from tui.model.cgroups import classify

# An id never seen makes the mount be walked again (an id a walk did not find is not looked
# for again: its cgroup went before it could be named), but never so often that walking takes
# over 5% of the time (a box with 100,000 cgroups walks for long). After a quiet spell walks may
# use up to 50 ms at once, so a cgroup made just after the last walk is named at the next read.
WALK_SHARE = 0.05
WALK_BURST_S = 0.05
MAX_CGROUPS = 100_000


def cgroup_root(mounts_path: str = "/proc/self/mounts") -> Path | None:
    """Return where cgroup v2 is mounted (/sys/fs/cgroup, or a hybrid's unified), or None."""
    try:
        with open(mounts_path) as mounts:
            for line in mounts:
                fields = line.split()
                if len(fields) > 2 and fields[2] == "cgroup2":
                    return Path(fields[1])
    except OSError:
        pass
    return None


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
    """The paths of the cgroup ids the kernel reports; re-reads the mount for unknown ids."""

    def __init__(self, root: Path | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.root = root
        self._paths: dict[int, str] = {}
        self._not_found: set[int] = set()
        self._clock = clock
        # Seconds of walking allowed now: WALK_SHARE of the time passing, up to WALK_BURST_S;
        # a long walk leaves it below zero, and no walk comes until it is back above.
        self._credit_s = WALK_BURST_S
        self._credit_at = clock()

    def paths_of(self, ids: Iterable[int]) -> dict[int, str]:
        """Return {id: path} for the ids that are (or were, while cached) cgroups."""
        wanted = {cgroup_id for cgroup_id in ids if cgroup_id}
        if self.root is None or not wanted:
            return {}
        started = self._clock()
        self._credit_s = min(
            WALK_BURST_S, self._credit_s + (started - self._credit_at) * WALK_SHARE
        )
        self._credit_at = started
        unknown = wanted - self._paths.keys() - self._not_found
        if unknown and self._credit_s > 0:
            # Keep what is known: a cgroup removed after its processes exited still names them
            # (up to a bound: container churn makes new cgroups forever).
            fresh = walk_cgroups(self.root)
            self._paths = fresh if len(self._paths) > 2 * MAX_CGROUPS else self._paths | fresh
            if len(self._not_found) > MAX_CGROUPS:
                self._not_found.clear()
            self._not_found |= unknown - fresh.keys()
            self._credit_s -= self._clock() - started
        return {
            cgroup_id: self._paths[cgroup_id] for cgroup_id in wanted if cgroup_id in self._paths
        }


def find_cgroups(root: Path, wanted: str, kinds: tuple[str, ...]) -> list[tuple[int, str]]:
    """Return (id, path) of the cgroups of `kinds` whose id, id prefix or name is `wanted`."""
    found = []
    for cgroup_id, path in walk_cgroups(root).items():
        group = classify(path)
        if group.kind not in kinds and not (group.kind == "kubernetes" and "kubernetes" in kinds):
            continue
        names = {group.id, group.name, group.path, os.path.basename(path)}
        if wanted in names or (len(wanted) >= 6 and group.id.startswith(wanted)):
            found.append((cgroup_id, path))
    return sorted(found, key=lambda item: item[1])
