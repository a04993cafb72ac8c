"""The BPF program text built for each configuration (no kernel needed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tui.config import Config, Filters
from tui.model.names import SyscallNames
from tui.model.prototypes import ArgKind, shipped_prototypes
from tui.sources.program import (
    PID_PLACEHOLDER,
    SELF_TGID_PLACEHOLDER,
    ArgLayout,
    _comm_words,
    arg_layout,
    build_program,
)

NAMES = SyscallNames("x86_64")
BUILD_IN_ANOTHER_PROCESS = (
    "import sys; from tui.config import Config; from tui.model.names import SyscallNames; "
    "from tui.sources.program import build_program; "
    "sys.stdout.write(build_program(Config(), SyscallNames('x86_64')).text)"
)


def defines(config: Config) -> dict[str, str]:
    return dict(build_program(config, NAMES).defines)


def test_default_program_has_no_filters_and_samples() -> None:
    found = defines(Config())
    assert found["SAMPLE_EVERY"] == "1000"
    assert found["TRACK_COMPAT"] == "1"
    assert found["NR_RT_SIGRETURN"] == "15"
    assert found["COMPAT_NR_EXIT_GROUP"] == "252"
    # No filter but one: syscalltop's own calls are left out, unless --show-self.
    assert [key for key in found if key.startswith("FILTER_")] == ["FILTER_EXCLUDE_TGID"]
    # Its pid is filled in at each load: the text (the kept image's key) is every start's.
    program = build_program(Config(), NAMES)
    assert found["FILTER_EXCLUDE_TGID"] == hex(SELF_TGID_PLACEHOLDER)
    assert program.constants == ((SELF_TGID_PLACEHOLDER, os.getpid()),)
    another = subprocess.run(
        [sys.executable, "-c", BUILD_IN_ANOTHER_PROCESS],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert another.stdout == program.text
    assert not any(key.startswith("FILTER_") for key in defines(Config(show_self=True)))
    assert build_program(Config(show_self=True), NAMES).constants == ()


def test_filters_become_defines() -> None:
    config = Config(
        sample_every=0,
        filters=Filters(
            pids=(10, 20),
            uid=1000,
            syscall_names=("openat",),
            failures_only=True,
            errno_value=2,
            comm="nginx",
            cgroup_id=77,
            cgroup_level=2,
        ),
    )
    found = defines(config)
    assert found["SAMPLE_EVERY"] == "0"
    assert found["FILTER_TGID_EXPR"] == "(tgid == 10 || tgid == 20)"  # several: compiled in
    assert found["FILTER_SLOT_EXPR"] == "(slot == 257 || slot == 807)"
    assert found["FILTER_UID"] == "1000"
    assert found["FAILURES_ONLY"] == "1"
    assert found["FILTER_ERRNO"] == "2"
    assert found["FILTER_CGROUP_ID"] == "77ULL"
    assert found["FILTER_CGROUP_LEVEL"] == "2"
    low, high = _comm_words("nginx")
    assert found["FILTER_COMM_LO"] == f"{low}ULL"
    assert low == int.from_bytes(b"nginx\0\0\0", "little") and high == 0


def test_every_single_pid_target_shares_one_program_text() -> None:
    """`-p PID` is filled in at each load: `-p 10` and `-p 4000` are one text (one kept
    image), the pid only in the constants; several pids are compiled in (clang makes a
    search tree of them, with bounds that are not the placeholders)."""

    def program(*pids: int, literal: bool = False):
        return build_program(Config(filters=Filters(pids=pids)), NAMES, literal_pids=literal)

    assert program(10).text == program(4000).text
    assert dict(program(4000).constants)[PID_PLACEHOLDER] == 4000
    assert program(10).required == (PID_PLACEHOLDER,)
    assert 1 << 22 < PID_PLACEHOLDER < 1 << 31 and PID_PLACEHOLDER != SELF_TGID_PLACEHOLDER
    assert "(tgid == 10)" in program(10, literal=True).text
    assert program(10, 20).required == () and "(tgid == 10 || tgid == 20)" in program(10, 20).text


def test_program_text_is_self_contained() -> None:
    text = build_program(Config(), NAMES).text
    assert '#include "syscalls.h"' not in text
    assert "struct syscall_stats {" in text
    assert text.index("#define SAMPLE_EVERY") < text.index("RAW_TRACEPOINT_PROGRAM(sys_enter)")


def test_user_memory_is_read_through_helpers_of_our_own_names() -> None:
    """BCC spends about 22 ms of each compile on every call spelt bpf_probe_read_user(_str)
    (0.18 s for the eight the program makes): the first live frame waits for the compile."""
    text = build_program(Config(), SyscallNames()).text
    assert "read_user_str(" in text and "read_user(" in text
    calls = [line for line in text.splitlines() if "bpf_probe_read_user" in line]
    assert all(line.lstrip().startswith("*") for line in calls), calls  # comments only


def test_arg_layout_names_the_argv_and_the_address_argument() -> None:
    """The kernel reads argv and a socket address once, at the argument the layout names."""
    prototypes = shipped_prototypes()

    def layout_of(name: str) -> ArgLayout:
        kinds = [int(k) if k < ArgKind.FD else 0 for k in prototypes[name].kinds()]
        return arg_layout(kinds, 6)

    execve = layout_of("execve")
    assert (execve.kinds[0], execve.argv_arg, execve.addr_arg) == (ArgKind.STRING, 1, 6)
    execveat = layout_of("execveat")
    assert (execveat.kinds[1], execveat.argv_arg) == (ArgKind.STRING, 2)
    connect = layout_of("connect")
    assert (connect.kinds[1], connect.argv_arg, connect.addr_arg) == (ArgKind.SOCKADDR_IN, 6, 1)
    accept = layout_of("accept")
    assert (accept.kinds[1], accept.addr_arg) == (ArgKind.SOCKADDR_OUT, 1)
    assert layout_of("openat").argv_arg == layout_of("openat").addr_arg == 6


def test_arg_layout_never_reads_a_string_out_of_the_decoders_order() -> None:
    """Strings are read before argv's: one after argv would land ahead of them, so it stays
    unread; an address with no argument after it for its length is not read either."""
    layout = arg_layout([ArgKind.ARGV, ArgKind.STRING, 0, 0, 0, ArgKind.SOCKADDR_IN], 6)
    assert layout.kinds[:2] == (ArgKind.ARGV, ArgKind.PLAIN)
    assert (layout.argv_arg, layout.addr_arg) == (0, 6)
    assert arg_layout([ArgKind.STRING], 6).kinds == (ArgKind.STRING, 0, 0, 0, 0, 0)


def test_sched_switch_is_attached_before_sys_enter() -> None:
    """sys_exit takes a CPU's entry state as the leaving thread's own without asking which
    thread it is: true only if no entry can be made before switches move states away."""
    from tui.sources.bcc_source import TRACEPOINTS_TIMED

    assert TRACEPOINTS_TIMED.index("sched_switch") < TRACEPOINTS_TIMED.index("sys_enter")
    assert TRACEPOINTS_TIMED[-1] == "sys_exit"
    text = build_program(Config(), NAMES).text
    exit_program = text[text.rindex("RAW_TRACEPOINT_PROGRAM(sys_exit)") :]  # the timed one
    fast_path = exit_program[: exit_program.index("} else {")]
    assert "bpf_get_current_pid_tgid" not in fast_path
