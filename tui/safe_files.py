"""Files written as root on a shared machine: new, private, never through a link."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFDIR: "a directory",
    stat.S_IFCHR: "a device",
    stat.S_IFBLK: "a device",
    stat.S_IFSOCK: "a socket",
}


class SafeFileError(Exception):
    """A file cannot be written safely; the message is one line."""


def open_new_file(path: Path, force: bool, what: str = "recording") -> int:
    """Open a new file at `path` (0600) and return its fd.

    Never follows a link and never reuses what is there: with `force`, an existing regular
    file is replaced by a new one made beside it and renamed over it, so another user's file
    keeps neither its owner nor its mode, and a FIFO or device is refused, never opened.
    """
    directory = path.parent if str(path.parent) else Path(".")
    try:
        info = os.stat(directory)
    except OSError as error:
        raise SafeFileError(f"cannot write {what} {path}: {error.strerror}") from None
    if info.st_mode & stat.S_IWOTH and not force:
        raise SafeFileError(
            f"refusing to write {what} into world-writable directory {directory} (use --force)"
        )
    try:
        existing = os.lstat(path)
    except FileNotFoundError:
        return _create(path, what)
    except OSError as error:
        raise SafeFileError(f"cannot write {what} {path}: {error.strerror}") from None
    if stat.S_ISLNK(existing.st_mode):
        raise SafeFileError(f"refusing to write {what} through symlink {path}")
    if not stat.S_ISREG(existing.st_mode):
        kind = KINDS.get(stat.S_IFMT(existing.st_mode), "not a file")
        raise SafeFileError(f"refusing to write {what} to {path}: not a regular file ({kind})")
    if not force:
        raise SafeFileError(f"{path} exists; not overwriting it (use --force)")
    temporary = directory / f".{path.name}.{secrets.token_hex(6)}.tmp"
    fd = _create(temporary, what)
    try:
        os.rename(temporary, path)
    except OSError as error:
        os.close(fd)
        os.unlink(temporary)
        raise SafeFileError(f"cannot replace {path}: {error.strerror}") from None
    return fd


def _create(path: Path, what: str) -> int:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        return os.open(path, flags, 0o600)
    except FileExistsError:
        raise SafeFileError(f"{path} appeared while writing {what}; not overwriting it") from None
    except OSError as error:
        raise SafeFileError(f"cannot write {what} {path}: {error.strerror}") from None
