"""Syscall names from the system-calls tables, compat decoding, errno names."""

from __future__ import annotations

import pytest

from tui.model.names import (
    COMPAT_SLOT_BASE,
    INVALID_SLOT,
    SyscallNames,
    errno_name,
    errno_value,
)
from tui.sources.program import header_constants


@pytest.fixture(scope="module")
def names() -> SyscallNames:
    return SyscallNames("x86_64")


def test_native_and_compat_decoding(names: SyscallNames) -> None:
    assert names.decode(110).name == "getppid"
    assert names.decode(COMPAT_SLOT_BASE + 64).label == "getppid (i386)"
    assert names.decode(COMPAT_SLOT_BASE + 64).compat
    assert names.decode(INVALID_SLOT).name == "invalid"
    assert names.decode(511).name == "unknown(511)"


def test_slots_for_name_cover_both_abis(names: SyscallNames) -> None:
    assert names.slots_for("openat") == (257, COMPAT_SLOT_BASE + 295)
    assert names.slots_for("newfstatat") == (262,)  # i386 has fstatat64 instead
    with pytest.raises(KeyError):
        names.slots_for("notacall")


def test_arm64_tables_load() -> None:
    arm = SyscallNames("arm64")
    assert arm.decode(173).name == "getppid"
    assert arm.compat_arch == "arm"


def test_errno_names() -> None:
    assert errno_name(2) == "ENOENT"
    assert errno_name(11) == "EAGAIN"
    assert errno_name(9999) == "E9999"
    assert errno_value("enoent") == 2
    with pytest.raises(KeyError):
        errno_value("ENOPE")
    with pytest.raises(KeyError):
        errno_value("errorcode")


def test_python_slot_layout_matches_the_bpf_header() -> None:
    constants = header_constants()
    from tui.model import names as module
    from tui.model.readings import HIST_BUCKETS

    for key in ("SLOTS_PER_ABI", "COMPAT_SLOT_BASE", "INVALID_SLOT", "SLOT_COUNT"):
        assert getattr(module, key) == constants[key]
    assert constants["HIST_BUCKETS"] == HIST_BUCKETS
