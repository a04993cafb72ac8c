"""Facts about this machine the command line checks: privileges, namespaces, users, cgroups."""

from __future__ import annotations

import os
from pathlib import Path

from tui.errors import UsageError

CAP_SYS_ADMIN = 21
CAP_PERFMON = 38
CAP_BPF = 39
# The initial pid namespace's inode number is fixed by the kernel (PROC_PID_INIT_INO).
HOST_PID_NAMESPACE_INODE = 0xEFFFFFFC


def effective_capabilities(status_path: str = "/proc/self/status") -> int:
    """Return the effective capability mask of this process."""
    with open(status_path) as status:
        for line in status:
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    return 0


def can_load_bpf(mask: int | None = None) -> bool:
    """Return True with CAP_SYS_ADMIN, or with both CAP_BPF and CAP_PERFMON."""
    mask = effective_capabilities() if mask is None else mask

    def has(cap: int) -> bool:
        return bool(mask & (1 << cap))

    return has(CAP_SYS_ADMIN) or (has(CAP_BPF) and has(CAP_PERFMON))


def in_host_pid_namespace(ns_path: str = "/proc/self/ns/pid") -> bool:
    """Return True when this process sees the host's pids, as BPF reports them."""
    try:
        return os.stat(ns_path).st_ino == HOST_PID_NAMESPACE_INODE
    except OSError:
        return True  # no /proc/self/ns (very old kernel, odd mount): assume the host's


def resolve_uid(text: str) -> int:
    """Return the uid of a user given by number or name."""
    if text.isdigit():
        return int(text)
    import pwd

    try:
        return pwd.getpwnam(text).pw_uid
    except KeyError:
        raise UsageError(f"unknown user {text!r}") from None


def cgroup2_root(mounts_path: str = "/proc/self/mounts") -> Path:
    """Return where the cgroup v2 hierarchy is mounted (unified or hybrid layouts)."""
    with open(mounts_path) as mounts:
        for line in mounts:
            fields = line.split()
            if len(fields) > 2 and fields[2] == "cgroup2":
                return Path(fields[1])
    raise UsageError("no cgroup v2 hierarchy is mounted; --cgroup needs one")


def resolve_cgroup(text: str, root: Path | None = None) -> tuple[int, int, str]:
    """Return (id, level, label) of a cgroup v2 given as a path or an id."""
    root = root or cgroup2_root()
    if text.isdigit():
        wanted = int(text)
        for dirpath, _, _ in os.walk(root):
            if os.stat(dirpath).st_ino == wanted:
                return wanted, _cgroup_level(Path(dirpath), root), text
        raise UsageError(f"no cgroup v2 with id {wanted} under {root}")
    path = Path(text)
    if not path.is_absolute() or (root not in path.parents and path != root):
        path = root / text.lstrip("/")
    resolved, real_root = path.resolve(), root.resolve()
    if resolved != real_root and real_root not in resolved.parents:
        raise UsageError(f"--cgroup {text!r} is outside the cgroup v2 hierarchy at {root}")
    if not resolved.is_dir():
        raise UsageError(f"no cgroup v2 directory {text!r} (looked at {path})")
    label = str(resolved.relative_to(real_root)) if resolved != real_root else "/"
    return os.stat(resolved).st_ino, _cgroup_level(resolved, root), label


CONTAINER_KINDS = ("docker", "kubernetes", "podman", "containerd", "cri-o", "lxc")
UNIT_KINDS = ("service", "scope", "slice", "session")


def resolve_group(text: str, kinds: tuple[str, ...], what: str) -> tuple[int, int, str]:
    """Return (id, level, label) of the one container or unit `text` names."""
    from tui.cgroupfs import find_cgroups
    from tui.model.cgroups import classify

    root = cgroup2_root()
    matches = find_cgroups(root, text, kinds)
    if not matches:
        raise UsageError(f"no {what} {text!r} under {root} (see syscalltop's c view for names)")
    groups = {classify(path).id for _, path in matches}
    if len(groups) > 1:
        shown = ", ".join(sorted(classify(path).label for _, path in matches)[:4])
        raise UsageError(f"{what} {text!r} is ambiguous: {shown}; give more of its id")
    cgroup_id, path = min(matches, key=lambda match: len(match[1]))  # the group's own cgroup
    return cgroup_id, path.count("/"), f"{what} {classify(path).label}"


def _cgroup_level(path: Path, root: Path) -> int:
    relative = path.resolve().relative_to(root.resolve())
    return len(relative.parts)


def gone(ids: tuple[int, ...]) -> set[int]:
    """Return the pids or tids of `ids` that no longer exist."""
    return {value for value in ids if not os.path.exists(f"/proc/{value}")}


class TargetWatch:
    """Say once when each -p/-t target exits, and when all of them have."""

    def __init__(self, ids: tuple[int, ...], kind: str) -> None:
        self.ids = ids
        self.kind = kind
        self.reported: set[int] = set()

    def news(self) -> tuple[list[str], bool]:
        """Return lines about targets that exited since the last call, and whether all did."""
        if not self.ids:
            return [], False
        now_gone = gone(self.ids)
        lines = [f"{self.kind} {value} has exited" for value in sorted(now_gone - self.reported)]
        self.reported |= now_gone
        return lines, len(now_gone) == len(self.ids)
