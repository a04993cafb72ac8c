"""The BPF program text built for each configuration (no kernel needed)."""

from __future__ import annotations

import os

from tui.config import Config, Filters
from tui.model.names import SyscallNames
from tui.sources.program import _comm_words, build_program

NAMES = SyscallNames("x86_64")


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
    assert found["FILTER_EXCLUDE_TGID"] == str(os.getpid())
    assert not any(key.startswith("FILTER_") for key in defines(Config(show_self=True)))


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
    assert found["FILTER_TGID_EXPR"] == "(tgid == 10 || tgid == 20)"
    assert found["FILTER_SLOT_EXPR"] == "(slot == 257 || slot == 807)"
    assert found["FILTER_UID"] == "1000"
    assert found["FAILURES_ONLY"] == "1"
    assert found["FILTER_ERRNO"] == "2"
    assert found["FILTER_CGROUP_ID"] == "77ULL"
    assert found["FILTER_CGROUP_LEVEL"] == "2"
    low, high = _comm_words("nginx")
    assert found["FILTER_COMM_LO"] == f"{low}ULL"
    assert low == int.from_bytes(b"nginx\0\0\0", "little") and high == 0


def test_program_text_is_self_contained() -> None:
    text = build_program(Config(), NAMES).text
    assert '#include "syscalls.h"' not in text
    assert "struct syscall_stats {" in text
    assert text.index("#define SAMPLE_EVERY") < text.index("RAW_TRACEPOINT_PROGRAM(sys_enter)")
