"""Files written as root on a shared machine: new, private, never through a link."""

from __future__ import annotations

import os
import stat
from pathlib import Path


class SafeFileError(Exception):
    """A file cannot be written safely; the message is one line."""


def open_new_file(path: Path, force: bool, what: str = "recording") -> int:
    """Open `path` for a new file (0600); refuse links, unsafe dirs and overwrites."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        info = os.stat(directory)
    except OSError as error:
        raise SafeFileError(f"cannot write {what} {path}: {error.strerror}") from None
    if info.st_mode & stat.S_IWOTH and not force:
        raise SafeFileError(
            f"refusing to write {what} into world-writable directory {directory} (use --force)"
        )
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    flags |= os.O_TRUNC if force else os.O_EXCL
    try:
        return os.open(path, flags, 0o600)
    except FileExistsError:
        raise SafeFileError(f"{path} exists; not overwriting it (use --force)") from None
    except OSError as error:
        if path.is_symlink():
            raise SafeFileError(f"refusing to write {what} through symlink {path}") from None
        raise SafeFileError(f"cannot write {what} {path}: {error.strerror}") from None
