"""Containers and services, live: real cgroup v2 directories laid out as Docker, Kubernetes
(containerd) and systemd lay them out, a workload moved into each; exact per-group counts,
kind and name; exited processes still attributed; --container/--unit filter exactly; a
seccomp profile from what a unit did lets it run, and fails it without one of its calls."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.bpf.test_cli_live import SYSCALLTOP
from tests.conftest import REPO
from tui.cgroupfs import cgroup_root

pytestmark = pytest.mark.bpf


class Cgroups:
    """cgroup directories a test makes (and only those are removed afterwards)."""

    def __init__(self) -> None:
        root = cgroup_root()
        assert root is not None, "cgroup v2 is mounted on this machine (hybrid: unified)"
        self.root = root
        self.made: list[Path] = []

    def make(self, relative: str) -> Path:
        path = self.root
        for part in relative.strip("/").split("/"):
            path = path / part
            if not path.exists():
                path.mkdir()
                self.made.append(path)
        return path

    def remove(self) -> None:
        for path in reversed(self.made):
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except OSError:
                    import time

                    time.sleep(0.1)  # its last process is still being reaped


@pytest.fixture
def cgroups() -> Iterator[Cgroups]:
    made = Cgroups()
    yield made
    made.remove()


def move(pid: int, cgroup: Path) -> None:
    (cgroup / "cgroup.procs").write_text(str(pid))


def json_run(*flags: str, then) -> list[dict]:  # type: ignore[no-untyped-def]
    tool = subprocess.Popen(
        [*SYSCALLTOP, "--json", "-i", "0.4", "-n", "5", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert tool.stdout is not None
    first = tool.stdout.readline()
    assert first, tool.stderr.read() if tool.stderr else ""
    then()
    rest, errors = tool.communicate(timeout=60)
    assert tool.returncode == 0, errors
    return [json.loads(line) for line in (first + rest).splitlines() if line.strip()]


def test_groups_by_runtime_layout_with_exact_counts(cgroups: Cgroups, workload_factory) -> None:
    cid = uuid.uuid4().hex + uuid.uuid4().hex
    pod = str(uuid.uuid4())
    unit = f"st-{uuid.uuid4().hex[:8]}.service"
    layouts = {
        "docker": (f"system.slice/docker-{cid}.scope", 1111, "docker", cid[:12]),
        "kubernetes": (
            "kubepods.slice/kubepods-besteffort.slice/"
            f"kubepods-besteffort-pod{pod.replace('-', '_')}.slice/"
            f"cri-containerd-{cid[::-1]}.scope",
            2222,
            "kubernetes",
            f"pod {pod[:8]}/{cid[::-1][:12]}",
        ),
        "systemd": (f"system.slice/{unit}", 3333, "service", unit),
    }
    workloads = {}
    for key, (path, calls, _, _) in layouts.items():
        workload = workload_factory(f"--getppid={calls}")
        move(workload.pid, cgroups.make(path))
        workloads[key] = workload

    def go() -> None:
        for workload in workloads.values():
            workload.go()
        workloads["docker"].finish()  # exits: its entries leave the map, still attributed

    lines = json_run("--syscall", "getppid", then=go)
    for key, (path, calls, kind, name) in layouts.items():
        groups = [g for line in lines for g in line["groups"] if g["path"] == "/" + path]
        assert groups, key
        assert {(g["kind"], g["name"]) for g in groups} == {(kind, name)}, key
        assert sum(g["count"] for g in groups) == calls, key
        pid = workloads[key].pid
        rows = [p for line in lines for p in line["processes"] if p["pid"] == pid]
        assert rows and all(p["group"]["kind"] == kind for p in rows)
        assert all(p["cgroup_id"] == os.stat(cgroups.root / path).st_ino for p in rows)
    exited = [p for line in lines for p in line["processes"] if p["pid"] == workloads["docker"].pid]
    assert any(p["exited"] for p in exited)


@pytest.mark.parametrize("flag", ["--container", "--unit"])
def test_container_and_unit_filters_are_exact_in_the_kernel(
    cgroups: Cgroups, workload_factory, flag: str
) -> None:
    cid = uuid.uuid4().hex + uuid.uuid4().hex
    unit = f"st-{uuid.uuid4().hex[:8]}.service"
    inside = workload_factory("--getppid=4321")
    outside = workload_factory("--getppid=999")
    if flag == "--container":
        move(inside.pid, cgroups.make(f"machine.slice/libpod-{cid}.scope"))
        wanted = cid[:12]
    else:
        move(inside.pid, cgroups.make(f"system.slice/{unit}"))
        wanted = unit

    def go() -> None:
        inside.go()
        outside.go()

    lines = json_run(flag, wanted, "--syscall", "getppid", then=go)
    pids = {p["pid"] for line in lines for p in line["processes"]}
    assert pids == {inside.pid}
    assert sum(row["count"] for line in lines for row in line["syscalls"]) == 4321


def test_unknown_and_ambiguous_targets_are_one_line(cgroups: Cgroups) -> None:
    from tests.bpf.test_cli_live import run_cli

    result = run_cli("--json", "-n", "1", "--unit", f"no-{uuid.uuid4().hex}.service")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "no unit" in result.stderr


SECCOMP_HELPER = """
import json, os, sys, seccomp
profile = json.load(open(sys.argv[1]))
drop = set(sys.argv[2].split(",")) - {""}
rules = seccomp.SyscallFilter(defaction=seccomp.ERRNO(profile["defaultErrnoRet"]))
for arch in profile["architectures"][1:]:
    rules.add_arch(getattr(seccomp.Arch, arch.removeprefix("SCMP_ARCH_")))
for group in profile["syscalls"]:
    for name in group["names"]:
        if name not in drop:
            try:
                rules.add_rule(seccomp.ALLOW, name)
            except (RuntimeError, ValueError):
                pass  # a name this libseccomp does not know
rules.load()
os.execv(sys.argv[3], sys.argv[3:])
"""
WORKLOAD = "import os, sys; print(os.uname().sysname); sys.stdout.flush()"


def test_seccomp_profile_from_observation_runs_the_unit_and_denies_what_it_lacks(
    cgroups: Cgroups, tmp_path: Path
) -> None:
    unit = f"st-{uuid.uuid4().hex[:8]}.service"
    cgroup = cgroups.make(f"system.slice/{unit}")
    python = shutil.which("python3", path="/usr/bin") or sys.executable
    profile = tmp_path / "profile.json"
    # The workload starts inside the unit's cgroup after syscalltop attached: every call
    # from its exec on is watched.
    run_in_unit = f'echo $$ > {cgroup}/cgroup.procs && exec {python} -c "{WORKLOAD}"'
    tool = subprocess.Popen(
        [*SYSCALLTOP, "--json", "-i", "0.3", "--unit", unit, "--seccomp-profile", str(profile)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert tool.stdout is not None and tool.stdout.readline()
    ran = subprocess.run(["sh", "-c", run_in_unit], capture_output=True, text=True, timeout=30)
    assert ran.returncode == 0 and ran.stdout.strip() == "Linux"
    ran_until = time.time()
    # Lines already in the pipe may be readings from before the workload ended, however many
    # a slow start made: the workload's calls are all read by the first reading after it.
    while (
        datetime.fromisoformat(json.loads(tool.stdout.readline())["time"]).timestamp() <= ran_until
    ):
        pass
    tool.terminate()
    _, errors = tool.communicate(timeout=30)
    assert tool.returncode == 143
    assert f"wrote {profile}" in errors
    written = json.loads(profile.read_text())
    assert written["defaultAction"] == "SCMP_ACT_ERRNO" and written["defaultErrnoRet"] == 1
    assert written["architectures"][0] == "SCMP_ARCH_X86_64"
    names = set(written["syscalls"][0]["names"])
    assert {"execve", "uname", "write"} <= names
    assert "watched" in written["comment"]
    assert written["comment"].endswith("s watched")  # no caveat: it started after syscalltop
    helper = tmp_path / "apply.py"
    helper.write_text(SECCOMP_HELPER)
    allowed = subprocess.run(
        [python, str(helper), str(profile), "", python, "-c", WORKLOAD],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.strip() == "Linux"
    denied = subprocess.run(
        [python, str(helper), str(profile), "uname", python, "-c", WORKLOAD],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert denied.returncode != 0
    assert "Operation not permitted" in denied.stderr  # the profile's errno, EPERM


def test_a_real_container_run_by_runc_is_named_as_docker_lays_it_out(tmp_path: Path) -> None:
    runc = shutil.which("runc")
    assert runc, "make test installs Debian's runc for this test"
    cid = uuid.uuid4().hex + uuid.uuid4().hex
    bundle = tmp_path / "bundle"
    (bundle / "rootfs").mkdir(parents=True)
    subprocess.run([runc, "spec"], cwd=bundle, check=True)
    spec = json.loads((bundle / "config.json").read_text())
    spec["root"] = {"path": "rootfs", "readonly": True}
    spec["process"]["terminal"] = False
    spec["process"]["args"] = [
        "/usr/bin/python3",
        "-c",
        "import ctypes, os, time\nctypes.CDLL(None).prctl(15, b'in-container', 0, 0, 0)\n"
        "for _ in range(777): os.getppid()\n"
        # Alive across a read: a cgroup removed before any read cannot be named (README).
        "time.sleep(1.5)",
    ]
    # The cgroupfs driver's layout, as Docker writes it: /docker/<id>.
    spec["linux"]["cgroupsPath"] = f"/docker/{cid}"
    spec["linux"]["namespaces"] = [n for n in spec["linux"]["namespaces"] if n["type"] != "network"]
    for directory in ("usr", "lib", "lib64", "bin", "etc"):
        if Path("/" + directory).exists():
            (bundle / "rootfs" / directory).mkdir()
            spec["mounts"].append(
                {
                    "destination": f"/{directory}",
                    "type": "bind",
                    "source": f"/{directory}",
                    "options": ["rbind", "ro"],
                }
            )
    (bundle / "config.json").write_text(json.dumps(spec))
    name = f"st-{cid[:10]}"

    def run_container() -> None:
        done = subprocess.run([runc, "run", name], cwd=bundle, capture_output=True, timeout=60)
        assert done.returncode == 0, done.stderr

    try:
        lines = json_run("--comm", "in-container", "--syscall", "getppid", then=run_container)
    finally:
        subprocess.run([runc, "delete", "--force", name], capture_output=True)
    groups = [g for line in lines for g in line["groups"]]
    assert {(g["kind"], g["name"]) for g in groups} == {("docker", cid[:12])}
    assert sum(g["count"] for g in groups) == 777
    assert all(g["path"].endswith(f"/docker/{cid}") for g in groups)


@pytest.mark.parametrize("level", ["full", "counts"])
def test_a_process_moved_between_cgroups_is_counted_where_it_made_its_calls(
    cgroups: Cgroups, workload_factory, level: str
) -> None:
    """The (process, syscall) entry took its cgroup at its first call only: calls made after a
    move into a pod stayed under the cgroup it came from, for as long as the tool ran."""
    from tests.bpf.test_engine import NAMES
    from tui.config import Config, Filters
    from tui.model.snapshot import build_snapshot
    from tui.sources.bcc_source import BccSource

    pod = str(uuid.uuid4())
    before_path = f"system.slice/st-{uuid.uuid4().hex[:8]}.service"
    after_path = (
        f"kubepods.slice/kubepods-pod{pod.replace('-', '_')}.slice/"
        f"cri-containerd-{uuid.uuid4().hex}{uuid.uuid4().hex}.scope"
    )
    workload = workload_factory("--getppid=1234", "--rounds=2")
    move(workload.pid, cgroups.make(before_path))
    only = Filters(pids=(workload.pid,), syscall_names=("getppid",))
    config = Config(filters=only, level=level, sample_every=0, capture_rate=0)
    source = BccSource(config, NAMES)
    source.start()
    try:
        start = source.read()
        workload.go()  # 1234 calls in the unit
        first = source.read()
        move(workload.pid, cgroups.make(after_path))
        workload.go()  # 1234 more, in the pod
        second = source.read()
    finally:
        source.close()

    def getppid_by_path(prev, now) -> dict[str, int]:  # type: ignore[no-untyped-def]
        shot = build_snapshot(prev, now, NAMES)
        return {row.group.path: row.count for row in shot.groups if row.count}

    assert getppid_by_path(start, first) == {"/" + before_path: 1234}
    in_second = getppid_by_path(first, second)
    assert in_second.get("/" + after_path) == 1234 and not in_second.get("/" + before_path)
