"""Syscall prototypes (argument types and names) and what each argument points at.

The running kernel's tracefs describes every syscall in events/syscalls/sys_enter_*/format;
`parse_format` reads one such file. Machines without tracefs use the table shipped in
tui/model/data/syscall_prototypes.json, made from those files (scripts/make_prototypes.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import IntEnum
from functools import cache
from importlib import resources

# String arguments worth reading: paths and names. Other `const char *` arguments are data
# (write's buf, sethostname's name is fine but a send buffer is not): never read those.
STRING_ARGS = frozenset(
    {
        "filename",
        "pathname",
        "oldname",
        "newname",
        "path",
        "name",
        "dir_name",
        "dev_name",
        "type",
        "special",
        "library",
        "uname",
        "old",
        "new",
        "target",
        "linkpath",
        "oldpath",
        "newpath",
        "from_pathname",
        "to_pathname",
        "new_root",
        "put_old",
        "specialfile",
        "u_name",
    }
)
# Declared `char *` though they are read, not written: mount's and uselib's strings.
MUTABLE_STRING_ARGS = frozenset(
    {("mount", "dev_name"), ("mount", "dir_name"), ("mount", "type"), ("umount", "name")}
)
# Data that is a `const char *` and named like a string above, by syscall: never read.
DATA_ARGS = frozenset({("sethostname", "name"), ("setdomainname", "name")})


class ArgKind(IntEnum):
    """What an argument points at (the numbers are bpf/syscalls.h's ARG_* values)."""

    PLAIN = 0
    STRING = 1
    SOCKADDR_IN = 2
    SOCKADDR_OUT = 3
    ARGV = 4
    FD = 16  # resolved in user space from /proc, never read in the kernel


@dataclass(frozen=True, slots=True)
class ArgSpec:
    """One argument: its C type and its name, as the kernel declares them."""

    type: str
    name: str


@dataclass(frozen=True, slots=True)
class Prototype:
    """A syscall's name and arguments."""

    name: str
    args: tuple[ArgSpec, ...]

    def kinds(self) -> tuple[ArgKind, ...]:
        """Return what each argument points at."""
        return tuple(arg_kind(self, index) for index in range(len(self.args)))


def parse_format(text: str) -> Prototype:
    """Return the prototype described by a tracefs sys_enter_* format file."""
    name = ""
    args: list[ArgSpec] = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("name: "):
            name = line.removeprefix("name: ").removeprefix("sys_enter_")
        if not line.startswith("field:"):
            continue
        declaration = line.removeprefix("field:").split(";", 1)[0].strip()
        kind, _, arg_name = declaration.rpartition(" ")
        arg_name = arg_name.lstrip("*")
        kind = kind + "*" * (len(declaration.rpartition(" ")[2]) - len(arg_name))
        if arg_name.startswith("common_") or arg_name == "__syscall_nr":
            continue
        args.append(ArgSpec(" ".join(kind.split()), arg_name))
    if not name:
        raise ValueError("not a tracefs syscall format file (no name line)")
    return Prototype(name, tuple(args))


def arg_kind(prototype: Prototype, index: int) -> ArgKind:
    """Return what argument `index` of `prototype` points at."""
    arg = prototype.args[index]
    kind = arg.type.replace(" ", "")
    following = (
        prototype.args[index + 1].type.replace(" ", "") if index + 1 < len(prototype.args) else ""
    )
    if kind == "constchar*constchar*" or kind == "constchar*const*":
        return ArgKind.ARGV if arg.name == "argv" else ArgKind.PLAIN  # never envp
    if kind == "constchar*" and arg.name in STRING_ARGS:
        if (prototype.name, arg.name) in DATA_ARGS:
            return ArgKind.PLAIN
        return ArgKind.STRING
    if kind == "char*" and (
        (prototype.name, arg.name) in MUTABLE_STRING_ARGS or arg.name == "filename"
    ):
        return ArgKind.STRING
    if kind == "structsockaddr*":
        if following in ("int", "unsignedint", "size_t", "socklen_t"):
            return ArgKind.SOCKADDR_IN
        if following in ("int*", "unsignedint*", "socklen_t*"):
            return ArgKind.SOCKADDR_OUT
    if kind in ("int", "unsignedint", "unsignedlong", "long") and (
        arg.name in ("fd", "fd_in", "fd_out") or arg.name.endswith("fd")
    ):
        return ArgKind.FD
    return ArgKind.PLAIN


@cache
def shipped_prototypes() -> dict[str, Prototype]:
    """Return the table made from a kernel's tracefs, shipped for machines without it."""
    text = resources.files("tui.model").joinpath("data/syscall_prototypes.json").read_text()
    return {
        name: Prototype(name, tuple(ArgSpec(kind, arg) for kind, arg in args))
        for name, args in json.loads(text).items()
    }
