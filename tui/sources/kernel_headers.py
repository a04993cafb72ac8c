"""Find a kernel header tree for BCC, merging Debian's split header packages when needed."""

from __future__ import annotations

import os
import re
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DEFAULT_CACHE_DIR = Path("/var/cache/syscalltop/kernel-headers")
_COMPLETE_MARKER = ".syscalltop-complete"
_COMMON_RE = re.compile(r"^linux-headers-(?P<version>.+)-common$")


class HeadersMissing(RuntimeError):
    """No usable kernel header tree: the message names the package to install."""


class HeadersUntrusted(HeadersMissing):
    """A header tree someone other than root could change: what BCC compiles runs in the kernel."""


def unsafe_reason(info: os.stat_result, ancestor: bool = False) -> str | None:
    """Return why a directory could be changed by someone other than root (or us), or None.

    Above the tree a root-owned sticky directory (/tmp) is fine: nobody else can rename or
    remove the entry below it. Inside the tree it is not: others could add a header.
    """
    if ancestor and info.st_mode & stat.S_ISVTX and info.st_uid == 0:
        return None
    if info.st_uid not in (0, os.geteuid()):
        return f"owned by uid {info.st_uid}"
    if info.st_mode & stat.S_IWOTH:
        return f"writable by everyone (mode {stat.S_IMODE(info.st_mode):04o})"
    if info.st_mode & stat.S_IWGRP and info.st_gid != 0:
        return f"writable by group {info.st_gid} (mode {stat.S_IMODE(info.st_mode):04o})"
    return None


def check_trusted(tree: Path, what: str) -> None:
    """Raise HeadersUntrusted when any directory in or above `tree` is not root's alone.

    Directories are what matter: a file can only be swapped through a directory that lets
    its writer in. Symlinked directories are followed (once each), so the Debian trees a
    merged cache points into are checked too; a merged cache names those trees in its
    marker, so they are walked once each and its ~50,000 file links are not stat()ed.
    """
    marker = tree / _COMPLETE_MARKER
    if marker.is_file() and not marker.is_symlink():
        _raise_if_unsafe(marker, tree, what)  # it names what else to check: root's alone
        sources = [Path(line) for line in marker.read_text().splitlines() if line]
        _walk_trusted(tree, what, follow_links=False)
        for source in sources:
            _walk_trusted(source, "the Debian header tree", follow_links=True)
        return
    _walk_trusted(tree, what, follow_links=True)


def _walk_trusted(tree: Path, what: str, follow_links: bool) -> None:
    seen: set[Path] = set()
    pending = [tree.resolve()]
    for ancestor in tree.resolve().parents:
        _raise_if_unsafe(ancestor, tree, what, ancestor=True)
    while pending:
        directory = pending.pop()
        if directory in seen:
            continue
        seen.add(directory)
        _raise_if_unsafe(directory, tree, what)
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(Path(entry.path))
                elif follow_links and entry.is_symlink() and entry.is_dir():
                    target = Path(entry.path).resolve()
                    pending.append(target)
                    for ancestor in target.parents:
                        _raise_if_unsafe(ancestor, tree, what, ancestor=True)


def _raise_if_unsafe(directory: Path, tree: Path, what: str, ancestor: bool = False) -> None:
    reason = unsafe_reason(os.stat(directory), ancestor)
    if reason is not None:
        raise HeadersUntrusted(
            f"refusing kernel headers from {what} {tree}: {directory} is {reason}, so another "
            f"user could change what is compiled into the kernel; chown -R root and chmod -R "
            f"go-w it, or remove it"
        )


@dataclass(frozen=True, slots=True)
class HeaderTree:
    """Where BCC should look for kernel headers, and how it was found."""

    path: Path
    how: str

    def describe(self) -> str:
        """Return a one-line account for the status bar."""
        return f"headers: {self.how} ({self.path})"


def _version_key(version: str) -> list[tuple[int, str]]:
    return [
        (int(part), "") if part.isdigit() else (-1, part) for part in re.split(r"[.-]", version)
    ]


def _debian_arch() -> str:
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)


def find_split_debian_headers(src_root: Path = Path("/usr/src")) -> tuple[Path, Path] | None:
    """Return the newest (common, arch) pair of Debian header directories, if installed."""
    if not src_root.is_dir():
        return None
    arch = _debian_arch()
    candidates: list[tuple[list[tuple[int, str]], Path, Path]] = []
    for entry in src_root.iterdir():
        match = _COMMON_RE.match(entry.name)
        if not match:
            continue
        arch_dir = src_root / f"linux-headers-{match['version']}-{arch}"
        if (entry / "include").is_dir() and (arch_dir / "include").is_dir():
            candidates.append((_version_key(match["version"]), entry, arch_dir))
    if not candidates:
        return None
    _, common, arch_dir = max(candidates, key=lambda item: item[0])
    return common, arch_dir


def _link_tree(source: Path, target: Path) -> None:
    """Mirror `source` into `target` as symlinks, later calls overriding earlier files."""
    for dirpath, dirnames, filenames in os.walk(source, followlinks=False):
        relative = Path(dirpath).relative_to(source)
        (target / relative).mkdir(parents=True, exist_ok=True)
        for name in dirnames + filenames:
            origin = Path(dirpath) / name
            if name in dirnames and not origin.is_symlink():
                continue
            link = target / relative / name
            if link.is_symlink() or link.is_file():
                link.unlink()
            elif link.is_dir():
                continue
            link.symlink_to(origin.resolve() if origin.is_symlink() else origin)


def _make_dirs(path: Path) -> None:
    """Create `path` and missing parents as 0755, whatever the umask said."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for directory in reversed(missing):
        directory.mkdir(mode=0o755)
        os.chmod(directory, 0o755)


def merge_headers(common: Path, arch_dir: Path, cache_dir: Path = DEFAULT_CACHE_DIR) -> Path:
    """Return a merged tree of `common` overlaid with `arch_dir`, built once and cached."""
    target = cache_dir / arch_dir.name
    if (target / _COMPLETE_MARKER).exists():
        return target
    # Everything made here is root's alone (0755 directories), whatever umask we inherited.
    previous_umask = os.umask(0o022)
    try:
        _make_dirs(cache_dir)
        staging = cache_dir / f".{arch_dir.name}.{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        _make_dirs(staging)
        _link_tree(common, staging)
        _link_tree(arch_dir, staging)
        (staging / _COMPLETE_MARKER).write_text(f"{common}\n{arch_dir}\n")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    finally:
        os.umask(previous_umask)
    return target


def install_hint() -> str:
    """Return the package names a user should install for headers."""
    release = os.uname().release
    return f"apt-get install linux-headers-{release} (or linux-headers-{_debian_arch()})"


def locate_headers(
    release: str | None = None,
    modules_root: Path = Path("/lib/modules"),
    src_root: Path = Path("/usr/src"),
    cache_dir: Path = DEFAULT_CACHE_DIR,
    trust: Callable[[Path, str], None] = check_trusted,
) -> HeaderTree:
    """Return the header tree BCC should use; raise HeadersMissing when there is none.
    `trust(tree, what)` checks each tree found (or is told to, for a caller that checks
    before it loads what it compiled from them)."""
    release = release or os.uname().release
    configured = os.environ.get("BCC_KERNEL_SOURCE")
    if configured and (Path(configured) / "include").is_dir():
        trust(Path(configured), "BCC_KERNEL_SOURCE")
        return HeaderTree(Path(configured), "BCC_KERNEL_SOURCE")
    build = modules_root / release / "build"
    if (build / "include").is_dir():
        trust(build, "the kernel's build directory")
        return HeaderTree(build, "matching kernel headers")
    split = find_split_debian_headers(src_root)
    if split is not None:
        merged = merge_headers(*split, cache_dir=cache_dir)
        trust(merged, "the header cache")  # and the trees its marker names
        return HeaderTree(merged, f"merged {split[1].name} (not {release})")
    raise HeadersMissing(f"no kernel headers for {release}: run `{install_hint()}` as root")
