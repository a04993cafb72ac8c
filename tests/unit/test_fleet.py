"""The fleet path, checked as far as this machine can: the systemd unit verifies, the
Containerfile names real packages and paths, the Kubernetes objects agree with each other.
(Schemas and YAML style are checked by `make lint`: kubernetes-validate and yamllint.)"""

from __future__ import annotations

import configparser
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

UNIT = REPO / "examples" / "syscalltop-exporter.service"
KUBE = REPO / "examples" / "kubernetes"


def unit_section(name: str) -> dict[str, str]:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNIT)
    return dict(parser[name])


def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd is installed on this machine"
    # verify checks that ExecStart exists: point it at this checkout's entry point.
    copy = tmp_path / UNIT.name
    copy.write_text(
        UNIT.read_text().replace("/usr/local/bin/syscalltop", str(REPO / ".venv/bin/syscalltop"))
    )
    result = subprocess.run(
        [analyze, "verify", "--man=no", str(copy)], capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_unit_is_hardened_and_listens_on_loopback() -> None:
    service = unit_section("Service")
    assert service["CapabilityBoundingSet"].split() == [
        "CAP_BPF",
        "CAP_PERFMON",
        "CAP_SYS_RESOURCE",
    ]
    for setting in ("NoNewPrivileges", "ProtectHome", "PrivateTmp", "ProtectKernelModules"):
        assert service[setting] == "yes", setting
    assert service["ProtectSystem"] == "strict"
    assert "--prometheus 127.0.0.1:" in service["ExecStart"]
    assert service["CacheDirectory"] == "syscalltop"  # the header cache, under strict


def containerfile() -> list[tuple[str, str]]:
    text = (REPO / "Containerfile").read_text().replace("\\\n", " ")
    lines = [
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    ]
    return [tuple(line.split(None, 1)) for line in lines]  # type: ignore[misc]


def test_containerfile_installs_real_distro_packages_and_copies_real_paths() -> None:
    steps = containerfile()
    assert steps[0][0] == "FROM" and steps[0][1].startswith("debian:")
    runs = " ".join(args for op, args in steps if op == "RUN")
    packages = re.search(r"--no-install-recommends ([\w\s.+-]+?)(?:&&|$)", runs)
    assert packages
    for package in packages.group(1).split():
        shown = subprocess.run(["apt-cache", "show", package], capture_output=True, text=True)
        assert shown.returncode == 0 and f"Package: {package}" in shown.stdout, package
    for op, args in steps:
        if op == "COPY":
            *sources, _target = args.split()
            for source in sources:
                assert (REPO / source).exists(), source
    entrypoint = json.loads(next(args for op, args in steps if op == "ENTRYPOINT"))
    assert entrypoint == ["/opt/syscalltop/bin/syscalltop"]
    assert "python3 -m venv --system-site-packages /opt/syscalltop" in runs
    assert "9545" in next(args for op, args in steps if op == "EXPOSE")


def test_kubernetes_objects_agree() -> None:
    daemonset = yaml.safe_load((KUBE / "daemonset.yaml").read_text())
    service = yaml.safe_load((KUBE / "service.yaml").read_text())
    monitor = yaml.safe_load((KUBE / "servicemonitor.yaml").read_text())
    pod = daemonset["spec"]["template"]["spec"]
    assert pod["hostPID"] is True
    container = pod["containers"][0]
    port = container["ports"][0]
    assert f"0.0.0.0:{port['containerPort']}" in container["args"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["securityContext"]["capabilities"]["add"] == ["BPF", "PERFMON", "SYS_RESOURCE"]
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert {"/sys", "/lib/modules", "/usr/src", "/var/cache/syscalltop"} <= mounts
    assert container["resources"]["limits"]["memory"]
    labels = daemonset["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == port["name"]
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    assert monitor["spec"]["endpoints"][0]["port"] == service["spec"]["ports"][0]["name"]


@pytest.mark.parametrize("name", ["daemonset.yaml", "service.yaml"])
def test_manifests_pass_the_kubernetes_schema(name: str) -> None:
    validator = REPO / ".venv" / "bin" / "kubernetes-validate"
    result = subprocess.run(
        [str(validator), "--strict", str(KUBE / name)], capture_output=True, text=True
    )
    assert result.returncode == 0 and "passed" in result.stdout, result.stdout + result.stderr
