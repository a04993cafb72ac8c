"""An OCI/Docker seccomp profile from what a target was seen to call."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

ARCH_NATIVE = {"x86_64": "SCMP_ARCH_X86_64", "aarch64": "SCMP_ARCH_AARCH64"}
ARCH_COMPAT = {"x86_64": "SCMP_ARCH_X86"}


@dataclass(frozen=True, slots=True)
class Observed:
    """What a target did while watched: syscall names per ABI, and for how long."""

    target: str
    native: frozenset[str]
    compat: frozenset[str]
    watched_s: float
    from_start: bool


def profile(observed: Observed, arch: str) -> dict[str, object]:
    """Return the profile: deny (EPERM) by default, allow every syscall seen."""
    architectures = [ARCH_NATIVE.get(arch, f"SCMP_ARCH_{arch.upper()}")]
    if observed.compat and arch in ARCH_COMPAT:
        architectures.append(ARCH_COMPAT[arch])
    names = sorted(observed.native | observed.compat)
    note = (
        f"syscalltop: every syscall {observed.target} made in {observed.watched_s:.0f} s "
        "watched"
        + (
            ""
            if observed.from_start
            else "; it was already running when watching began, so calls it made only while"
            " starting may be missing"
        )
    )
    return {
        "comment": note,
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 1,
        "architectures": architectures,
        "syscalls": [{"names": names, "action": "SCMP_ACT_ALLOW"}] if names else [],
    }


def profile_text(observed: Observed, arch: str) -> str:
    """Return the profile as the JSON runtimes read (`docker run --security-opt seccomp=`)."""
    return json.dumps(profile(observed, arch), indent=2) + "\n"


def seen_syscalls(calls: Iterable[tuple[str, bool]]) -> tuple[frozenset[str], frozenset[str]]:
    """Split (name, compat) pairs into native and compat sets (ids in no table dropped)."""
    native = {name for name, compat in calls if not compat and not name.startswith("invalid")}
    compat = {name for name, compat in calls if compat and not name.startswith("invalid")}
    return frozenset(native), frozenset(compat)
