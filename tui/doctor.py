"""--version and --doctor: what this build is, and what this machine has or lacks."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tui import __version__
from tui.errors import EXIT_FAILURE, EXIT_OK, UsageError
from tui.system import can_load_bpf, cgroup2_root, in_host_pid_namespace

BTF = Path("/sys/kernel/btf/vmlinux")
TRACEFS = (Path("/sys/kernel/tracing"), Path("/sys/kernel/debug/tracing"))


@dataclass(frozen=True, slots=True)
class Finding:
    """One check: what was found, and the command that fixes it when something is missing."""

    name: str
    ok: bool
    found: str
    fix: str = ""
    required: bool = True


def bcc_version() -> str | None:
    """Return the version of bcc's Python bindings, or None when they are missing."""
    try:
        from tui.sources.bcc_source import bcc_version as version

        return version()
    except ImportError:
        return None


def version_text() -> str:
    """Return what --version prints."""
    btf = "BTF" if BTF.exists() else "no BTF"
    bcc = bcc_version() or "missing (install python3-bpfcc)"
    return f"syscalltop {__version__}\nbcc {bcc}\nkernel {os.uname().release} ({btf})"


def tracefs_dir() -> Path | None:
    """Return where tracefs is mounted, or None."""
    return next((path for path in TRACEFS if (path / "events").is_dir()), None)


def findings() -> list[Finding]:
    """Return every check, in the order a user would fix them."""
    from tui.sources.kernel_headers import HeadersMissing, HeadersUntrusted, locate_headers

    found: list[Finding] = []
    found.append(
        Finding(
            "privileges",
            can_load_bpf(),
            "CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN)" if can_load_bpf() else "not privileged",
            "run it as root: sudo syscalltop",
        )
    )
    version = bcc_version()
    found.append(
        Finding(
            "bcc",
            version is not None,
            f"python3-bpfcc {version}" if version else "bcc's Python bindings are missing",
            "apt-get install python3-bpfcc (Fedora/RHEL: dnf install python3-bcc)",
        )
    )
    try:
        tree = locate_headers()
        what = f"{tree.how} at {tree.path}"
        if tree.how.startswith("merged"):
            what = f"no exact headers for {os.uname().release}; merged Debian tree {tree.path}"
        found.append(Finding("kernel headers", True, what))
    except HeadersUntrusted as error:
        found.append(Finding("kernel headers", False, str(error), "see the line above"))
    except HeadersMissing as error:
        found.append(Finding("kernel headers", False, "none", str(error).split("run ", 1)[-1]))
    found.append(
        Finding(
            "BTF",
            BTF.exists(),
            f"{BTF} (--level counts attaches as tp_btf on x86-64)"
            if BTF.exists()
            else "the kernel has no BTF (--level counts pays a helper call more per syscall)",
            "a kernel built with CONFIG_DEBUG_INFO_BTF=y",
            required=False,
        )
    )
    from tui.sources.program_cache import CACHE_ENV, cache_state

    cache_ok, cache_what = cache_state()
    found.append(
        Finding(
            "program cache",
            cache_ok,
            cache_what,
            f"unset {CACHE_ENV}, or make its directory root's alone (chmod 700)",
            required=False,
        )
    )
    tracefs = tracefs_dir()
    found.append(
        Finding(
            "tracefs",
            tracefs is not None,
            f"mounted at {tracefs}" if tracefs else "not mounted (argument names fall back)",
            "mount -t tracefs tracefs /sys/kernel/tracing",
            required=False,
        )
    )
    try:
        root = cgroup2_root()
        layout = "unified" if root == Path("/sys/fs/cgroup") else "hybrid"
        found.append(Finding("cgroup v2", True, f"{root} ({layout} layout)"))
    except UsageError:
        found.append(
            Finding(
                "cgroup v2",
                False,
                "not mounted (--cgroup and container names need it)",
                "mount -t cgroup2 none /sys/fs/cgroup/unified",
                required=False,
            )
        )
    host = in_host_pid_namespace()
    found.append(
        Finding(
            "pid namespace",
            host,
            "the host's" if host else "a container's: BPF reports host pids",
            "run it on the host, or docker run --pid=host",
        )
    )
    return found


def run_doctor() -> int:
    """Print every finding; exit 0 when nothing required is missing, else 1."""
    results = findings()
    width = max(len(f.name) for f in results)
    for finding in results:
        mark = "ok " if finding.ok else ("MISSING" if finding.required else "optional")
        print(f"{finding.name:<{width}}  {mark:<8} {finding.found}")
        if not finding.ok:
            print(f"{'':<{width}}  {'':<8} fix: {finding.fix}")
    missing = [f.name for f in results if f.required and not f.ok]
    if missing:
        print(f"syscalltop cannot run here yet: {', '.join(missing)}")
        return EXIT_FAILURE
    print("syscalltop can run here")
    return EXIT_OK
