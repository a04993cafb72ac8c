"""cgroup v2 paths → who they are: a container (Docker, Kubernetes, Podman, containerd, CRI-O,
LXC), a systemd service, a user session, a slice, or the root.

The layouts are the ones the runtimes write (systemd cgroup driver and cgroupfs driver alike):

    /system.slice/docker-<id>.scope                       Docker (systemd driver)
    /docker/<id>                                          Docker (cgroupfs driver)
    /kubepods.slice/kubepods-burstable.slice/
        kubepods-burstable-pod<uid>.slice/cri-containerd-<id>.scope   Kubernetes, containerd
    /kubepods/besteffort/pod<uid>/<id>                    Kubernetes, cgroupfs driver
    .../crio-<id>.scope                                   CRI-O
    /machine.slice/libpod-<id>.scope, /libpod_parent/libpod-<id>      Podman
    /lxc.payload.<name>, /lxc/<name>                      LXC
    /system.slice/nginx.service                           a systemd service
    /user.slice/user-1000.slice/session-3.scope           a login session
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from tui.model.sanitize import safe_text

SHORT_ID = 12
_HEX_ID = r"[0-9a-f]{32,64}"
_SCOPE_RUNTIMES = (
    (re.compile(rf"^docker-({_HEX_ID})\.scope$"), "docker"),
    (re.compile(rf"^cri-containerd-({_HEX_ID})\.scope$"), "containerd"),
    (re.compile(rf"^crio-({_HEX_ID})\.scope$"), "cri-o"),
    (re.compile(rf"^libpod-({_HEX_ID})\.scope$"), "podman"),
    (re.compile(rf"^libpod-({_HEX_ID})$"), "podman"),
)
_CONMON = re.compile(rf"^(?:crio|libpod)-conmon-({_HEX_ID})\.scope$")
_POD_SLICE = re.compile(r"^kubepods(?:-[a-z]+)?-pod([0-9a-f_]{36})\.slice$")
_POD_DIR = re.compile(r"^pod([0-9a-f-]{36})$")
_BARE_ID = re.compile(rf"^({_HEX_ID})$")
_LXC = re.compile(r"^lxc\.payload\.(.+)$")
_SESSION = re.compile(r"^session-([^/]+)\.scope$")
_USER_SLICE = re.compile(r"^user-(\d+)\.slice$")


@dataclass(frozen=True, slots=True)
class Group:
    """What a cgroup is: `kind` (docker, kubernetes, podman, containerd, cri-o, lxc,
    service, session, slice, root, cgroup), a short `name` to show, and its full `id`."""

    kind: str
    name: str
    id: str
    path: str
    pod: str | None = None

    @property
    def label(self) -> str:
        """Return `kind:name` as the tables show it."""
        return "/" if self.kind == "root" else f"{self.kind}:{self.name}"

    @property
    def is_container(self) -> bool:
        """Return True for a container of any runtime."""
        return self.kind in ("docker", "kubernetes", "podman", "containerd", "cri-o", "lxc")


ROOT = Group("root", "/", "/", "/")


@functools.lru_cache(maxsize=4096)  # every process of a cgroup has its path: classify once
def classify(path: str) -> Group:
    """Return the group a cgroup v2 path (relative to the mount, like `/a/b`) belongs to."""
    clean = safe_text(path, 1024)
    parts = [part for part in clean.split("/") if part]
    if not parts:
        return ROOT
    pod = _pod_uid(parts)
    for index in range(len(parts) - 1, -1, -1):
        part = parts[index]
        for pattern, runtime in _SCOPE_RUNTIMES:
            match = pattern.match(part)
            if match:
                return _container(match[1], runtime, pod, clean)
        match = _CONMON.match(part)
        if match:
            return Group("service", f"conmon-{match[1][:SHORT_ID]}", match[1], clean)
        match = _BARE_ID.match(part)
        if match and index > 0:
            parent = parts[index - 1]
            if parent == "docker":
                return _container(match[1], "docker", pod, clean)
            if pod is not None:
                return _container(match[1], "containerd", pod, clean)
        match = _LXC.match(part)
        if match:
            return Group("lxc", match[1], match[1], clean)
        if part == "lxc" and index + 1 < len(parts):
            return Group("lxc", parts[index + 1], parts[index + 1], clean)
    if pod is not None:  # the pod's own slice (its pause process, or a runtime we do not know)
        return Group("kubernetes", f"pod {pod[:8]}", pod, clean, pod)
    leaf = parts[-1]
    if leaf.endswith(".service"):
        user = next((p for p in parts if p.startswith("user@") and p.endswith(".service")), None)
        name = leaf if user is None or user == leaf else f"{user.removesuffix('.service')}/{leaf}"
        return Group("service", name, leaf, clean)
    match = _SESSION.match(leaf)
    if match:
        uid = next((m[1] for p in parts if (m := _USER_SLICE.match(p))), "?")
        return Group("session", f"uid {uid} session {match[1]}", leaf, clean)
    if leaf.endswith(".slice"):
        return Group("slice", leaf, leaf, clean)
    if leaf.endswith(".scope"):
        return Group("scope", leaf.removesuffix(".scope"), leaf, clean)
    return Group("cgroup", leaf, clean, clean)


def _pod_uid(parts: list[str]) -> str | None:
    if not any(part.startswith("kubepods") for part in parts):
        return None
    for part in parts:
        match = _POD_SLICE.match(part)
        if match:
            return match[1].replace("_", "-")  # systemd slices spell dashes as underscores
        match = _POD_DIR.match(part)
        if match:
            return match[1]
    return None


def _container(container_id: str, runtime: str, pod: str | None, path: str) -> Group:
    short = container_id[:SHORT_ID]
    if pod is not None:
        return Group("kubernetes", f"pod {pod[:8]}/{short}", container_id, path, pod)
    return Group(runtime, short, container_id, path)
