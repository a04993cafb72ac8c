"""Syscall and errno names: the system-calls tables for the running architecture, errno."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from functools import lru_cache

from system_calls import NoSuchSystemCall, NotSupportedSystemCall, syscalls

# Slot layout shared with bpf/syscalls.h (checked by a unit test against the header).
SLOTS_PER_ABI = 512
COMPAT_SLOT_BASE = 512
INVALID_SLOT = 1024
SLOT_COUNT = 1025

# The 32-bit ABI a 64-bit kernel runs beside the native one, in system-calls' names.
_COMPAT_ARCH = {"x86_64": "i386", "arm64": "arm"}
_ARCH_ALIASES = {"aarch64": "arm64", "amd64": "x86_64"}


def native_arch() -> str:
    """Return the running architecture in the system-calls package's naming."""
    machine = os.uname().machine
    return _ARCH_ALIASES.get(machine, machine)


@dataclass(frozen=True, slots=True)
class SlotName:
    """A decoded slot: syscall number, name, and whether it is a compat (32-bit) call."""

    slot: int
    nr: int
    name: str
    compat: bool

    @property
    def label(self) -> str:
        """Return the name as shown to users: compat calls are marked with the ABI."""
        return f"{self.name} (i386)" if self.compat else self.name


class SyscallNames:
    """Map kernel slots and names to each other for one architecture."""

    def __init__(self, arch: str | None = None) -> None:
        self.arch = arch or native_arch()
        self.compat_arch = _COMPAT_ARCH.get(self.arch)
        self._tables = syscalls()
        self._native = self._tables.load_reverse_arch_table(self.arch)
        self._compat = (
            self._tables.load_reverse_arch_table(self.compat_arch) if self.compat_arch else {}
        )

    @lru_cache(maxsize=2048)  # noqa: B019 - one instance per process, slots are few
    def decode(self, slot: int) -> SlotName:
        """Return the name of a slot, `unknown(N)` for numbers the tables do not know."""
        if slot == INVALID_SLOT or slot < 0 or slot > INVALID_SLOT:
            return SlotName(slot, -1, "invalid", False)
        compat = slot >= COMPAT_SLOT_BASE
        nr = slot - COMPAT_SLOT_BASE if compat else slot
        table = self._compat if compat else self._native
        return SlotName(slot, nr, table.get(nr, f"unknown({nr})"), compat)

    def number(self, name: str, compat: bool = False) -> int:
        """Return the number of a syscall name; raise KeyError when this ABI lacks it."""
        arch = self.compat_arch if compat else self.arch
        if arch is None:
            raise KeyError(name)
        try:
            return int(self._tables.get(name, arch))
        except (NoSuchSystemCall, NotSupportedSystemCall):
            raise KeyError(name) from None

    def slots_for(self, name: str) -> tuple[int, ...]:
        """Return every slot (native and compat) a syscall name occupies; KeyError if none."""
        slots: list[int] = []
        for compat in (False, True):
            try:
                nr = self.number(name, compat)
            except KeyError:
                continue
            if 0 <= nr < SLOTS_PER_ABI:
                slots.append(COMPAT_SLOT_BASE + nr if compat else nr)
        if not slots:
            raise KeyError(name)
        return tuple(slots)

    def all_native(self) -> list[tuple[int, str]]:
        """Return (number, name) for every native syscall, by number."""
        return sorted(self._native.items())

    def known(self, name: str) -> bool:
        """Return True when `name` is a syscall of this architecture or its compat ABI."""
        try:
            self.slots_for(name)
        except KeyError:
            return False
        return True


# Codes the kernel uses inside itself (include/linux/errno.h): a process never sees them,
# but sys_exit does, e.g. ERESTARTSYS when a signal interrupts a call that is then restarted.
KERNEL_INTERNAL_ERRNOS = {
    512: "ERESTARTSYS",
    513: "ERESTARTNOINTR",
    514: "ERESTARTNOHAND",
    515: "ENOIOCTLCMD",
    516: "ERESTART_RESTARTBLOCK",
    517: "EPROBE_DEFER",
    518: "EOPENSTALE",
    519: "ENOPARAM",
    521: "EBADHANDLE",
    522: "ENOTSYNC",
    523: "EBADCOOKIE",
    524: "ENOTSUPP",
    525: "ETOOSMALL",
    526: "ESERVERFAULT",
    527: "EBADTYPE",
    528: "EJUKEBOX",
    529: "EIOCBQUEUED",
    530: "ERECALLCONFLICT",
    531: "ENOGRACE",
}
_KERNEL_INTERNAL_BY_NAME = {name: value for value, name in KERNEL_INTERNAL_ERRNOS.items()}


def errno_name(value: int) -> str:
    """Return the symbolic name of a positive errno value, `E<n>` when unknown."""
    return errno.errorcode.get(value) or KERNEL_INTERNAL_ERRNOS.get(value, f"E{value}")


def is_kernel_internal(value: int) -> bool:
    """Return True for the kernel's own codes that a process never sees (512 and up)."""
    return value in KERNEL_INTERNAL_ERRNOS


def errno_known(value: int) -> bool:
    """Return True when some errno, the process's or the kernel's own, has this number."""
    return value in errno.errorcode or value in KERNEL_INTERNAL_ERRNOS


def errno_value(name: str) -> int:
    """Return the value of an errno name such as ENOENT; KeyError if unknown."""
    upper = name.upper()
    if upper in _KERNEL_INTERNAL_BY_NAME:
        return _KERNEL_INTERNAL_BY_NAME[upper]
    value = getattr(errno, upper, None)
    if not isinstance(value, int) or not upper.startswith("E"):
        raise KeyError(name)
    return value
