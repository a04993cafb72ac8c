"""cgroup paths as the runtimes lay them out → kind and name."""

from __future__ import annotations

import pytest

from tui.model.cgroups import ROOT, classify

CID = "4f2c1d9e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e"
POD = "8a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"


@pytest.mark.parametrize(
    ("path", "kind", "name", "full_id"),
    [
        (f"/system.slice/docker-{CID}.scope", "docker", CID[:12], CID),
        (f"/docker/{CID}", "docker", CID[:12], CID),
        (
            "/kubepods.slice/kubepods-burstable.slice/"
            f"kubepods-burstable-pod{POD.replace('-', '_')}.slice/cri-containerd-{CID}.scope",
            "kubernetes",
            f"pod {POD[:8]}/{CID[:12]}",
            CID,
        ),
        (
            f"/kubepods.slice/kubepods-pod{POD.replace('-', '_')}.slice/crio-{CID}.scope",
            "kubernetes",
            f"pod {POD[:8]}/{CID[:12]}",
            CID,
        ),
        (f"/kubepods/besteffort/pod{POD}/{CID}", "kubernetes", f"pod {POD[:8]}/{CID[:12]}", CID),
        (
            "/kubepods.slice/kubepods-besteffort.slice/"
            f"kubepods-besteffort-pod{POD.replace('-', '_')}.slice",
            "kubernetes",
            f"pod {POD[:8]}",
            POD,
        ),
        (f"/machine.slice/libpod-{CID}.scope", "podman", CID[:12], CID),
        (f"/machine.slice/libpod-{CID}.scope/container", "podman", CID[:12], CID),
        (f"/libpod_parent/libpod-{CID}", "podman", CID[:12], CID),
        (f"/system.slice/crio-{CID}.scope", "cri-o", CID[:12], CID),
        (
            f"/system.slice/containerd.service/cri-containerd-{CID}.scope",
            "containerd",
            CID[:12],
            CID,
        ),
        ("/lxc.payload.web1", "lxc", "web1", "web1"),
        ("/lxc/web2", "lxc", "web2", "web2"),
        ("/system.slice/nginx.service", "service", "nginx.service", "nginx.service"),
        (
            "/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service",
            "service",
            "user@1000/foo.service",
            "foo.service",
        ),
        (
            "/user.slice/user-1000.slice/session-3.scope",
            "session",
            "uid 1000 session 3",
            "session-3.scope",
        ),
        ("/system.slice", "slice", "system.slice", "system.slice"),
        ("/init.scope", "scope", "init", "init.scope"),
        ("/tests/mine", "cgroup", "mine", "/tests/mine"),
    ],
)
def test_layouts(path: str, kind: str, name: str, full_id: str) -> None:
    group = classify(path)
    assert (group.kind, group.name, group.id) == (kind, name, full_id)
    assert group.path == path


def test_root_and_kubernetes_pod_uid() -> None:
    assert classify("/") == ROOT and classify("") == ROOT and ROOT.label == "/"
    group = classify(f"/kubepods/burstable/pod{POD}/{CID}")
    assert (
        group.pod == POD
        and group.is_container
        and group.label == f"kubernetes:pod {POD[:8]}/{CID[:12]}"
    )
    assert not classify("/system.slice/nginx.service").is_container


def test_hostile_cgroup_names_are_sanitized() -> None:
    group = classify("/system.slice/\x1b]52;c;QQ==\x07evil.service")
    assert group.kind == "service" and "\x1b" not in group.name and "\\x1b]52" in group.name
    assert all(ch.isprintable() for ch in group.path + group.name + group.id)


def test_a_cgroup_made_after_the_last_walk_is_named_at_once_and_a_gone_one_not_sought_again(
    tmp_path, monkeypatch
) -> None:
    """Paths come from walking the mount (an id is a directory's inode)."""
    import os

    from tui import cgroupfs

    walks: list[int] = []
    real_walk = cgroupfs.walk_cgroups

    def counted_walk(root):  # type: ignore[no-untyped-def]
        walks.append(1)
        return real_walk(root)

    monkeypatch.setattr(cgroupfs, "walk_cgroups", counted_walk)
    monkeypatch.setattr(cgroupfs, "WALK_SHARE", 1.0)  # the share rule aside: a walk each time
    (tmp_path / "system.slice" / "a.service").mkdir(parents=True)
    names = cgroupfs.CgroupNames(tmp_path)
    first = os.stat(tmp_path / "system.slice" / "a.service").st_ino
    assert names.paths_of([first]) == {first: "/system.slice/a.service"}
    (tmp_path / "system.slice" / "b.service").mkdir()
    second = os.stat(tmp_path / "system.slice" / "b.service").st_ino
    assert names.paths_of([first, second]) == {
        first: "/system.slice/a.service",
        second: "/system.slice/b.service",
    }
    assert len(walks) == 2
    gone = 987654321  # no directory has this inode: its cgroup was removed before any walk
    assert names.paths_of([gone, first]) == {first: "/system.slice/a.service"}
    assert names.paths_of([gone]) == {} and len(walks) == 3  # looked for once, not again


def test_new_cgroups_are_named_at_once_and_walks_stay_within_their_share(
    monkeypatch, tmp_path
) -> None:
    """A walk that took 10 ms kept the next one away for 200 ms, so a cgroup made just after
    (a process moved into a new pod) showed as '?' however soon the next read came. A burst
    of 50 ms is allowed, then 5% of the time."""
    from tui import cgroupfs

    now = [100.0]
    walks: list[float] = []

    def slow_walk(root):  # type: ignore[no-untyped-def]
        walks.append(now[0])
        now[0] += 0.010  # each walk takes 10 ms
        return {len(walks): f"/pod-{len(walks)}"}

    monkeypatch.setattr(cgroupfs, "walk_cgroups", slow_walk)
    names = cgroupfs.CgroupNames(tmp_path, clock=lambda: now[0])
    assert names.paths_of([1]) == {1: "/pod-1"}
    now[0] += 0.020  # the next read, 20 ms later: a new cgroup is named at once
    assert names.paths_of([1, 2]) == {1: "/pod-1", 2: "/pod-2"}
    for cgroup_id in range(3, 400):  # an endless stream of new cgroups, a read every 10 ms
        now[0] += 0.010
        names.paths_of([cgroup_id])
    elapsed = now[0] - 100.0
    assert len(walks) * 0.010 <= 0.050 + 0.05 * elapsed + 0.010
