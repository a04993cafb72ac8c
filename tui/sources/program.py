"""Build the exact BPF C text to load for a configuration (pure: no bcc, no kernel)."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from tui.config import Config
from tui.model.names import SyscallNames
from tui.model.prototypes import ArgKind
from tui.paths import resource_dir

_INCLUDE = '#include "syscalls.h"'
_DEFINE = re.compile(r"^#define\s+([A-Z_][A-Z0-9_]*)\s+(-?\d+)\s*$", re.MULTILINE)


def header_text() -> str:
    """Return bpf/syscalls.h."""
    return (resource_dir("bpf") / "syscalls.h").read_text()


def header_constants() -> dict[str, int]:
    """Return the integer #defines of bpf/syscalls.h (the one source of sizes)."""
    return {name: int(value) for name, value in _DEFINE.findall(header_text())}


def _comm_words(comm: str) -> tuple[int, int]:
    """Pack a comm as the kernel stores it (16 NUL-padded bytes) into two little-endian words."""
    raw = os.fsencode(comm)[:15].ljust(16, b"\0")
    return int.from_bytes(raw[:8], "little"), int.from_bytes(raw[8:], "little")


def _any_of(variable: str, values: tuple[int, ...]) -> str:
    return "(" + " || ".join(f"{variable} == {value}" for value in values) + ")"


@dataclass(frozen=True, slots=True)
class ProgramSource:
    """The C text and the option defines it was built with; `constants` maps placeholders
    in the text to what each load puts in their place (the same text, one cached image)."""

    defines: tuple[tuple[str, str], ...]
    text: str
    constants: tuple[tuple[int, int], ...] = ()
    # Placeholders the compiled program must hold (a filter clang cannot fold away): an
    # image without one of them is not this program's.
    required: tuple[int, ...] = ()


def _abi_numbers(names: SyscallNames) -> list[tuple[str, str]]:
    """Defines for the syscalls the program treats specially, native and compat."""
    wanted = {
        "NR_RT_SIGRETURN": ("rt_sigreturn", False),
        "COMPAT_NR_SIGRETURN": ("sigreturn", True),
        "COMPAT_NR_RT_SIGRETURN": ("rt_sigreturn", True),
        "NR_EXIT": ("exit", False),
        "NR_EXIT_GROUP": ("exit_group", False),
        "COMPAT_NR_EXIT": ("exit", True),
        "COMPAT_NR_EXIT_GROUP": ("exit_group", True),
        "NR_EXECVE": ("execve", False),
        "NR_EXECVEAT": ("execveat", False),
        "COMPAT_NR_EXECVE": ("execve", True),
        "COMPAT_NR_EXECVEAT": ("execveat", True),
    }
    defines: list[tuple[str, str]] = []
    for define, (name, compat) in wanted.items():
        try:
            defines.append((define, str(names.number(name, compat))))
        except KeyError:
            defines.append((define, "-1"))
    return defines


# Above any pid (pid_max is at most 2^22) and below 2^31 (a compare's immediate is signed).
SELF_TGID_PLACEHOLDER = 0x5E1F7A11
# The pid of `-p PID` (one pid), filled in at each load the same way, so every target shares
# one kept image. Only one: clang turns a test of several values into a search tree whose
# bounds are other numbers (a placeholder plus one), so several pids are compiled in.
PID_PLACEHOLDER = 0x4A000000


def build_program(config: Config, names: SyscallNames, literal_pids: bool = False) -> ProgramSource:
    """Return the program for `config`: option defines, the header, then the program body;
    `literal_pids` compiles a -p pid in, not as a placeholder."""
    filters = config.filters
    defines: list[tuple[str, str]] = [
        ("SAMPLE_EVERY", str(max(config.sample_every, 0) if config.timed else 0)),
        ("PROC_MAP_ENTRIES", str(config.proc_map_entries)),
        ("HIST_ROWS", str(config.hist_rows)),
    ]
    if not config.timed:
        defines.append(("COUNTS_ONLY", "1"))
    if config.capture_rate > 0 and config.timed:
        ns_per_token = 1_000_000_000 // config.capture_rate
        defines.append(("CAPTURE_NS_PER_TOKEN", f"{ns_per_token}ULL"))
        defines.append(("CAPTURE_BURST_NS", f"{ns_per_token * config.capture_rate}ULL"))
        if config.slow_ms > 0:
            defines.append(("SLOW_NS", f"{int(config.slow_ms * 1_000_000)}ULL"))
    defines += _abi_numbers(names)
    if names.arch == "x86_64":
        defines.append(("TRACK_COMPAT", "1"))
    constants: list[tuple[int, int]] = []
    if not config.show_self and os.getpid() not in filters.pids:
        # Our own pid differs at every start: a placeholder the load fills in, so the text
        # (and the image kept for it) stays the same.
        defines.append(("FILTER_EXCLUDE_TGID", f"{SELF_TGID_PLACEHOLDER:#x}"))
        constants.append((SELF_TGID_PLACEHOLDER, os.getpid()))
    required: tuple[int, ...] = ()
    if len(filters.pids) == 1 and not literal_pids:
        required = (PID_PLACEHOLDER,)
        defines.append(("FILTER_TGID_EXPR", _any_of("tgid", required)))
        constants.append((PID_PLACEHOLDER, filters.pids[0]))
    elif filters.pids:
        defines.append(("FILTER_TGID_EXPR", _any_of("tgid", filters.pids)))
    if filters.tids:
        defines.append(("FILTER_TID_EXPR", _any_of("tid", filters.tids)))
    if filters.syscall_names:
        slots = tuple(slot for name in filters.syscall_names for slot in names.slots_for(name))
        defines.append(("FILTER_SLOT_EXPR", _any_of("slot", slots)))
    if filters.uid is not None:
        defines.append(("FILTER_UID", str(filters.uid)))
    if filters.cgroup_id is not None:
        defines.append(("FILTER_CGROUP_ID", f"{filters.cgroup_id}ULL"))
        defines.append(("FILTER_CGROUP_LEVEL", str(filters.cgroup_level or 0)))
    if filters.comm is not None:
        low, high = _comm_words(filters.comm)
        defines.append(("FILTER_COMM_LO", f"{low}ULL"))
        defines.append(("FILTER_COMM_HI", f"{high}ULL"))
    if filters.failures_only:
        defines.append(("FAILURES_ONLY", "1"))
    if filters.errno_value is not None:
        defines.append(("FILTER_ERRNO", str(filters.errno_value)))

    body = (resource_dir("bpf") / "syscalls.bpf.c").read_text()
    define_block = "".join(f"#define {name} {value}\n" for name, value in defines)
    text = (
        "/* syscalltop options */\n" + define_block + "\n" + body.replace(_INCLUDE, header_text())
    )
    return ProgramSource(
        defines=tuple(defines), text=text, constants=tuple(constants), required=required
    )


@dataclass(frozen=True, slots=True)
class ArgLayout:
    """What the kernel reads of a syscall's arguments (struct arg_layout): each one's kind,
    which is argv and which is a socket address (`arg_count` for none)."""

    kinds: tuple[int, ...]
    argv_arg: int
    addr_arg: int


def arg_layout(kinds: Sequence[int], arg_count: int) -> ArgLayout:
    """Return the layout of a prototype's kinds (ArgKind values, FD already made plain).

    The kernel reads the strings first, then argv's: a string after argv (no prototype has
    one) is left unread, so the decoder's one pass in argument order still matches. An
    address needs its length in the next argument.
    """
    kinds = list(kinds[:arg_count]) + [0] * max(arg_count - len(kinds), 0)
    argv = next((index for index, kind in enumerate(kinds) if kind == ArgKind.ARGV), arg_count)
    for index in range(argv + 1, arg_count):
        if kinds[index] == ArgKind.STRING:
            kinds[index] = ArgKind.PLAIN
    addresses = [
        index
        for index, kind in enumerate(kinds)
        if kind in (ArgKind.SOCKADDR_IN, ArgKind.SOCKADDR_OUT) and index + 1 < arg_count
    ]
    return ArgLayout(tuple(kinds), argv, addresses[-1] if addresses else arg_count)
