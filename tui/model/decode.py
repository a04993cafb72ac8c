"""Arguments decoded strace-style: flags and constants by name, strings, socket addresses.

Names come from Python's own constants (os, socket, signal, mmap, fcntl, termios, time,
errno) wherever they exist; the few the standard library lacks (AT_*, futex, epoll, prctl,
ptrace operations) are small tables of the kernel's numbers (facts of the ABI).
"""

from __future__ import annotations

import fcntl
import mmap
import os
import signal
import socket
import termios
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from tui.model.names import errno_name
from tui.model.prototypes import ArgKind, Prototype
from tui.model.sanitize import safe_text

AT_FDCWD = -100
STRING_SHOWN = 256  # bytes of a string the kernel reads (CAPTURE_STRING_LEN)
ARGV_SHOWN = 3

# The kernel's numbers for what Python does not name (include/uapi/linux/*.h).
AT_FLAGS = {
    "AT_SYMLINK_NOFOLLOW": 0x100,
    "AT_REMOVEDIR": 0x200,
    "AT_SYMLINK_FOLLOW": 0x400,
    "AT_NO_AUTOMOUNT": 0x800,
    "AT_EMPTY_PATH": 0x1000,
    "AT_STATX_FORCE_SYNC": 0x2000,
    "AT_STATX_DONT_SYNC": 0x4000,
    "AT_RECURSIVE": 0x8000,
}
FUTEX_OPS = {
    0: "FUTEX_WAIT",
    1: "FUTEX_WAKE",
    2: "FUTEX_FD",
    3: "FUTEX_REQUEUE",
    4: "FUTEX_CMP_REQUEUE",
    5: "FUTEX_WAKE_OP",
    6: "FUTEX_LOCK_PI",
    7: "FUTEX_UNLOCK_PI",
    8: "FUTEX_TRYLOCK_PI",
    9: "FUTEX_WAIT_BITSET",
    10: "FUTEX_WAKE_BITSET",
    11: "FUTEX_WAIT_REQUEUE_PI",
    12: "FUTEX_CMP_REQUEUE_PI",
    13: "FUTEX_LOCK_PI2",
}
FUTEX_PRIVATE, FUTEX_CLOCK_REALTIME = 128, 256
EPOLL_OPS = {1: "EPOLL_CTL_ADD", 2: "EPOLL_CTL_DEL", 3: "EPOLL_CTL_MOD"}
PRCTL_OPS = {
    1: "PR_SET_PDEATHSIG",
    2: "PR_GET_PDEATHSIG",
    3: "PR_GET_DUMPABLE",
    4: "PR_SET_DUMPABLE",
    15: "PR_SET_NAME",
    16: "PR_GET_NAME",
    22: "PR_SET_SECCOMP",
    21: "PR_GET_SECCOMP",
    36: "PR_SET_CHILD_SUBREAPER",
    38: "PR_SET_NO_NEW_PRIVS",
    39: "PR_GET_NO_NEW_PRIVS",
    23: "PR_CAPBSET_READ",
    24: "PR_CAPBSET_DROP",
    47: "PR_CAP_AMBIENT",
    0x59616D61: "PR_SET_PTRACER",
}
PTRACE_OPS = {
    0: "PTRACE_TRACEME",
    1: "PTRACE_PEEKTEXT",
    2: "PTRACE_PEEKDATA",
    3: "PTRACE_PEEKUSER",
    4: "PTRACE_POKETEXT",
    5: "PTRACE_POKEDATA",
    6: "PTRACE_POKEUSER",
    7: "PTRACE_CONT",
    8: "PTRACE_KILL",
    9: "PTRACE_SINGLESTEP",
    12: "PTRACE_GETREGS",
    13: "PTRACE_SETREGS",
    16: "PTRACE_ATTACH",
    17: "PTRACE_DETACH",
    24: "PTRACE_SYSCALL",
    0x4200: "PTRACE_SETOPTIONS",
    0x4201: "PTRACE_GETEVENTMSG",
    0x4204: "PTRACE_GETREGSET",
    0x4205: "PTRACE_SETREGSET",
    0x4206: "PTRACE_SEIZE",
    0x4207: "PTRACE_INTERRUPT",
    0x4208: "PTRACE_LISTEN",
}
SIG_HOW = {0: "SIG_BLOCK", 1: "SIG_UNBLOCK", 2: "SIG_SETMASK"}
MAP_EXTRA = {"MAP_FIXED": 0x10, "MAP_NORESERVE": 0x4000, "MAP_FIXED_NOREPLACE": 0x100000}


def _named(module: object, prefix: str, skip: Iterable[str] = ()) -> dict[str, int]:
    skipped = set(skip)
    return {
        name: value
        for name in dir(module)
        if name.startswith(prefix)
        and name not in skipped
        and isinstance(value := getattr(module, name), int)
        and not isinstance(value, bool)
    }


@cache
def _tables() -> dict[str, dict[str, int]]:
    open_flags = _named(os, "O_", skip=("O_ACCMODE", "O_RDONLY", "O_WRONLY", "O_RDWR"))
    # Aliases of one bit: keep the name strace prints.
    for alias in ("O_NDELAY", "O_FSYNC", "O_RSYNC", "O_LARGEFILE"):
        open_flags.pop(alias, None)
    return {
        "open": open_flags,
        "prot": _named(mmap, "PROT_"),
        "map": {
            **{
                k: v
                for k, v in _named(mmap, "MAP_").items()
                if k not in ("MAP_ANON", "MAP_SHARED", "MAP_PRIVATE")
            },
            **MAP_EXTRA,
        },
        "fcntl": {
            k: v
            for k, v in _named(fcntl, "F_").items()
            if k not in ("F_EXLCK", "F_SHLCK", "F_RDLCK", "F_WRLCK", "F_UNLCK")
            and not k.startswith("F_SEAL_")
            and not k.endswith("64")
        },
        "ioctl": {k: v for k, v in _named(termios, "TIOC").items() | _named(termios, "TC").items()},
        "clock": _named(time, "CLOCK_"),
        "seek": _named(os, "SEEK_"),
        "access": {"R_OK": os.R_OK, "W_OK": os.W_OK, "X_OK": os.X_OK},
        "at": AT_FLAGS,
    }


def _by_value(table: Mapping[str, int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for name, value in sorted(table.items()):
        found.setdefault(value, name)
    return found


def flag_names(value: int, table: Mapping[str, int]) -> str:
    """Return `value` as NAME|NAME|0x.. (the bits no name covers in hex)."""
    names = []
    rest = value
    for name, bit in sorted(table.items(), key=lambda item: -item[1]):
        if bit and value & bit == bit and rest & bit:
            names.append(name)
            rest &= ~bit
    if rest:
        names.append(hex(rest))
    return "|".join(reversed(names)) if names else "0"


def open_flags(value: int) -> str:
    """Return open(2) flags: the access mode, then the other flags."""
    access = {os.O_RDONLY: "O_RDONLY", os.O_WRONLY: "O_WRONLY", os.O_RDWR: "O_RDWR"}.get(
        value & os.O_ACCMODE, hex(value & os.O_ACCMODE)
    )
    table = _tables()["open"]
    # O_TMPFILE includes O_DIRECTORY's bit; O_SYNC includes O_DSYNC's.
    rest = value & ~os.O_ACCMODE
    others = flag_names(rest, table) if rest else ""
    return access + (f"|{others}" if others else "")


def octal(value: int) -> str:
    """Return a mode in octal, as strace does."""
    return f"0{value & 0o7777:o}" if value else "000"


def access_mode(value: int) -> str:
    """Return access(2)'s mode: F_OK or R_OK|W_OK|X_OK."""
    return "F_OK" if value == 0 else flag_names(value, _tables()["access"])


def signal_name(value: int) -> str:
    """Return SIGTERM for 15 (and SIGRTMIN+3 for real-time signals)."""
    try:
        return signal.Signals(value).name
    except ValueError:
        if signal.SIGRTMIN <= value <= signal.SIGRTMAX:
            return f"SIGRTMIN+{value - signal.SIGRTMIN}"
        return str(value)


def _enum_name(enum: type, value: int, prefix: str) -> str:
    try:
        name = str(enum(value).name)
        return name if name.startswith(prefix) else str(value)
    except ValueError:
        return str(value)


def socket_type(value: int) -> str:
    """Return SOCK_STREAM|SOCK_CLOEXEC and the like."""
    flags = value & (socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC)
    kind = _enum_name(socket.SocketKind, value & ~flags, "SOCK_")
    names = {"SOCK_NONBLOCK": socket.SOCK_NONBLOCK, "SOCK_CLOEXEC": socket.SOCK_CLOEXEC}
    extra = flag_names(flags, names)
    return kind + (f"|{extra}" if flags else "")


def futex_op(value: int) -> str:
    """Return FUTEX_WAIT_PRIVATE and the like."""
    name = FUTEX_OPS.get(value & 127, str(value & 127))
    if value & FUTEX_PRIVATE:
        name += "_PRIVATE"
    if value & FUTEX_CLOCK_REALTIME:
        name += "|FUTEX_CLOCK_REALTIME"
    return name


def from_table(table: Mapping[int, str]) -> Callable[[int], str]:
    """Return a decoder naming values from a table (others as numbers)."""
    return lambda value: table.get(value, str(value))


def _signed(value: int, bits: int = 32) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def fd_or_cwd(value: int) -> str:
    """Return AT_FDCWD for -100, else the fd number."""
    number = _signed(value)
    return "AT_FDCWD" if number == AT_FDCWD else str(number)


# (syscall names or "*", argument name) → decoder of that argument's value.
Decoder = Callable[[int], str]
_OPEN_CALLS = frozenset({"open", "openat", "creat", "mq_open"})
_MODE_CALLS = frozenset(
    {"open", "openat", "creat", "mkdir", "mkdirat", "chmod", "fchmod", "fchmodat"}
    | {"mknod", "mknodat", "fchmodat2"}
)


@cache
def decoder_for(syscall: str, arg: str) -> Decoder | None:
    """Return how to show argument `arg` of `syscall`, or None to show it as a number."""
    tables = _tables()
    if arg == "flags" and syscall in _OPEN_CALLS:
        return open_flags
    if arg == "mode" and syscall in _MODE_CALLS:
        return octal
    if arg == "mode" and syscall in ("access", "faccessat", "faccessat2"):
        return access_mode
    at_call = syscall.endswith("at") or syscall in ("statx", "faccessat2", "fchmodat2")
    if arg in ("flag", "flags") and at_call:
        return lambda value: flag_names(value, tables["at"])
    if arg == "prot" and syscall in ("mmap", "mprotect", "pkey_mprotect"):
        return lambda value: flag_names(value, tables["prot"])
    if arg == "flags" and syscall == "mmap":
        return _mmap_flags
    if arg in ("sig", "signum") or (syscall == "kill" and arg == "sig"):
        return signal_name
    if arg == "how" and syscall in ("rt_sigprocmask", "sigprocmask"):
        return from_table(SIG_HOW)
    if syscall in ("socket", "socketpair") and arg == "family":
        return lambda value: _enum_name(socket.AddressFamily, value, "AF_")
    if syscall in ("socket", "socketpair") and arg == "type":
        return socket_type
    if syscall == "fcntl" and arg == "cmd":
        return from_table(_by_value(tables["fcntl"]))
    if syscall == "ioctl" and arg == "cmd":
        return from_table(_by_value(tables["ioctl"]))
    if syscall == "futex" and arg == "op":
        return futex_op
    if syscall.startswith("epoll_ctl") and arg == "op":
        return from_table(EPOLL_OPS)
    if syscall == "prctl" and arg == "option":
        return from_table(PRCTL_OPS)
    if syscall == "ptrace" and arg == "request":
        return from_table(PTRACE_OPS)
    if syscall.startswith("clock_") and arg == "which_clock":
        return from_table(_by_value(tables["clock"]))
    if syscall in ("lseek", "llseek") and arg == "whence":
        return from_table(_by_value(tables["seek"]))
    if arg in ("dfd", "olddfd", "newdfd"):
        return fd_or_cwd
    return None


def _mmap_flags(value: int) -> str:
    shares = {1: "MAP_SHARED", 2: "MAP_PRIVATE", 3: "MAP_SHARED_VALIDATE"}
    share = shares.get(value & 3, hex(value & 3))
    rest = value & ~3
    return share + (f"|{flag_names(rest, _tables()['map'])}" if rest else "")


# -- strings and socket addresses ------------------------------------------------------------


def quoted(raw: bytes, truncated: bool) -> str:
    """Return a string argument as strace shows it: quoted, escaped, `...` when cut."""
    text = safe_text(raw.replace(b"\\", b"\\\\").replace(b'"', b'\\"'), STRING_SHOWN + 64)
    return f'"{text}"' + ("..." if truncated else "")


def sockaddr_text(raw: bytes) -> str:
    """Return a socket address: 127.0.0.1:5999, [::1]:443, /run/x.sock, @abstract."""
    if len(raw) < 2:
        return "{?}"
    family = int.from_bytes(raw[:2], "little")
    if family == socket.AF_INET and len(raw) >= 8:
        port = int.from_bytes(raw[2:4], "big")
        return f"{socket.inet_ntop(socket.AF_INET, raw[4:8])}:{port}"
    if family == socket.AF_INET6 and len(raw) >= 24:
        port = int.from_bytes(raw[2:4], "big")
        return f"[{socket.inet_ntop(socket.AF_INET6, raw[8:24])}]:{port}"
    if family == socket.AF_UNIX:
        path = raw[2:]
        if not path:
            return "@"  # unnamed
        if path[:1] == b"\0":
            return "@" + safe_text(path[1:].rstrip(b"\0"), 120)
        return safe_text(path.split(b"\0", 1)[0], 120)
    return _enum_name(socket.AddressFamily, family, "AF_")


# -- a whole call ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DecodedCall:
    """A call decoded for people: strace-style text, the target it is about, typed args."""

    text: str
    target: str | None
    # (name, type, value, as shown): the value is the string, address or argv read, else the
    # register (signed for int types, as the kernel reads it).
    args: tuple[tuple[str, str, object, str], ...]


def decode_call(
    name: str,
    prototype: Prototype | None,
    registers: tuple[int, ...],
    strings: tuple[bytes, ...],
    string_truncated: tuple[bool, ...],
    addr: bytes,
    ret: int,
    fd_targets: Mapping[int, str],
    argv_more: bool = False,
) -> DecodedCall:
    """Return the call as `openat(AT_FDCWD, "/etc/x", O_RDONLY) = -2 ENOENT`."""
    shown: list[str] = []
    typed: list[tuple[str, str, object, str]] = []
    # What the call is about: its path, else its address, else the file its fd points at.
    path = address = fd_target = None
    if prototype is None:
        shown = [_number(value) for value in registers[:6]]
        typed = [
            (f"arg{i}", "unsigned long", value, text)
            for i, (value, text) in enumerate(zip(registers[:6], shown, strict=False))
        ]
    else:
        next_string = 0
        for index, (spec, kind) in enumerate(zip(prototype.args, prototype.kinds(), strict=True)):
            value = registers[index] if index < len(registers) else 0
            typed_value: object = _typed(value, spec.type)
            if kind is ArgKind.STRING and next_string < len(strings):
                text = quoted(strings[next_string], string_truncated[next_string])
                typed_value = safe_text(strings[next_string], STRING_SHOWN)
                if path is None:
                    path = safe_text(strings[next_string], STRING_SHOWN) + (
                        "…" if string_truncated[next_string] else ""
                    )
                next_string += 1
            elif kind is ArgKind.ARGV and next_string < len(strings):
                items = [
                    quoted(strings[i], string_truncated[i])
                    for i in range(next_string, min(len(strings), next_string + ARGV_SHOWN))
                ]
                typed_value = [
                    safe_text(strings[i], STRING_SHOWN)
                    for i in range(next_string, next_string + len(items))
                ]
                next_string += len(items)
                text = "[" + ", ".join(items) + (", ..." if argv_more else "") + "]"
            elif kind in (ArgKind.SOCKADDR_IN, ArgKind.SOCKADDR_OUT) and addr:
                address = sockaddr_text(addr)
                text = "{" + address + "}"
                typed_value = address
            elif kind is ArgKind.FD:
                number = _signed(value)
                if number == AT_FDCWD:
                    text = "AT_FDCWD"
                elif index in fd_targets:
                    text = f"{number}<{fd_targets[index]}>"
                    fd_target = fd_target or fd_targets[index]
                else:
                    text = str(number)
            else:
                decoder = decoder_for(name, spec.name)
                text = decoder(value) if decoder else _number(value)
            shown.append(text)
            typed.append((spec.name, spec.type, typed_value, text))
    if name in ("open", "openat") and len(shown) == len(typed) >= 3:
        flags = registers[len(shown) - 2] if len(registers) >= len(shown) else 0
        if not flags & (os.O_CREAT | os.O_TMPFILE):
            shown.pop()  # as strace: the mode means nothing without O_CREAT or O_TMPFILE
    result = _result(ret)
    target = path or address or fd_target
    return DecodedCall(f"{name}({', '.join(shown)}) = {result}", target, tuple(typed))


def _typed(value: int, kind: str) -> int:
    """Return a register as the C type reads it: ints signed 32-bit, longs signed 64-bit."""
    if kind in ("int", "pid_t", "uid_t", "gid_t", "clockid_t", "key_serial_t", "timer_t"):
        return _signed(value)
    if kind in ("long", "off_t", "loff_t", "ssize_t", "time_t"):
        return _signed(value, 64)
    return value


def _number(value: int) -> str:
    signed = _signed(value, 64)
    if -4096 < signed < 0:
        return str(signed)
    return f"{value:#x}" if value > 0xFFFF else str(value)


def _result(ret: int) -> str:
    if -4095 <= ret < 0:
        return f"{ret} {errno_name(-ret)}"
    return f"{ret:#x}" if ret > 0xFFFFFF else str(ret)
