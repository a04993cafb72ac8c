"""The on-disk cache of compiled programs: what it keeps, and what it refuses to load."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest

from tui.sources import program_cache
from tui.sources.program_cache import (
    IMAGES_KEPT,
    FunctionImage,
    MapSpec,
    ProgramImage,
    image_key,
    load_image,
    map_refs_of,
    store_image,
    with_fds,
)

KEY = "ab" * 32


def insn(code: int, src: int = 0, dst: int = 0, off: int = 0, imm: int = 0) -> bytes:
    """Return one BPF instruction."""
    return struct.pack("<BBhi", code, (src << 4) | dst, off, imm)


# r1 = map fd (ld_imm64, two halves), r0 = 0, a second map load, exit.
INSNS = (
    insn(0x18, src=1, dst=1, imm=7)
    + insn(0, imm=0)
    + insn(0xB7, dst=0)
    + insn(0x18, src=1, dst=2, imm=9)
    + insn(0)
    + insn(0x95)
)
IMAGE = ProgramImage(
    maps=(
        MapSpec("proc_stats", 1, 8, 64, 65536, 1),
        MapSpec("syscall_stats", 6, 4, 64, 1024, 0),
    ),
    functions=(FunctionImage("on_sys_exit", INSNS, ((0, "proc_stats"), (3, "syscall_stats"))),),
    license="GPL",
)


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    cache = tmp_path / "programs"
    os.chmod(tmp_path, 0o700)
    return cache


def stored(directory: Path) -> dict[str, object]:
    assert store_image(directory, KEY, IMAGE) is None
    return json.loads((directory / f"{KEY}.json").read_text())


def rewrite(directory: Path, document: dict[str, object]) -> None:
    (directory / f"{KEY}.json").write_text(json.dumps(document))


def test_an_image_comes_back_as_it_was_kept(directory: Path) -> None:
    stored(directory)
    assert load_image(directory, KEY) == IMAGE
    assert load_image(directory, "cd" * 32) is None  # another program: a miss
    assert oct(directory.stat().st_mode & 0o777) == "0o700"
    assert oct((directory / f"{KEY}.json").stat().st_mode & 0o777) == "0o600"


def test_map_references_are_found_and_filled_with_this_load_s_fds() -> None:
    assert map_refs_of(INSNS) == [(0, 7), (3, 9)]
    filled = with_fds(IMAGE.functions[0], {"proc_stats": 41, "syscall_stats": 42})
    assert map_refs_of(filled) == [(0, 41), (3, 42)]
    assert filled[8:24] == INSNS[8:24]  # nothing else moves


def test_placeholders_become_this_load_s_constants() -> None:
    """The program's own pid is a placeholder in the text: each load puts its pid there."""
    code = insn(0x61, dst=1) + insn(0x15, dst=1, off=1, imm=0x5E1F7A11) + insn(0x95)
    function = FunctionImage("on_sys_exit", code, ())
    filled = with_fds(function, {}, {0x5E1F7A11: 4321})
    assert filled == insn(0x61, dst=1) + insn(0x15, dst=1, off=1, imm=4321) + insn(0x95)
    assert with_fds(function, {}, {}) == code


def test_a_placeholder_in_a_wide_constant_is_filled_too() -> None:
    """Compared with a whole pid_tgid, the tgid is the high word of a 64-bit constant (as
    clang compiles the exclusion of our own pid): that half is filled as well."""
    code = insn(0x18, dst=2, imm=0) + insn(0, imm=0x5E1F7A11) + insn(0x95)
    filled = with_fds(FunctionImage("on_sys_exit", code, ()), {}, {0x5E1F7A11: 4321})
    assert filled == insn(0x18, dst=2, imm=0) + insn(0, imm=4321) + insn(0x95)


def test_the_key_follows_the_text_and_every_fact() -> None:
    base = image_key("int x;", ("bcc 0.26", "6.18"))
    assert image_key("int x;", ("bcc 0.26", "6.18")) == base
    assert image_key("int y;", ("bcc 0.26", "6.18")) != base
    assert image_key("int x;", ("bcc 0.27", "6.18")) != base
    assert image_key("int x;", ("bcc 0.26", "6.19")) != base
    assert image_key("int x;", ("bcc 0.26", "6.18", "2 cpus")) != base


@pytest.mark.parametrize(
    "damage",
    [
        lambda doc: doc.update(format=0),
        lambda doc: doc.update(format=1.0),  # equal to 1, but not what a store writes
        lambda doc: doc.update(format=True),
        lambda doc: doc.update(key="cd" * 32),
        lambda doc: doc.update(license="GPL\x1b[2J"),
        lambda doc: doc["maps"][0].__setitem__(1, 12),  # a map type the program never uses
        lambda doc: doc["maps"][0].__setitem__(2, 0),  # no key
        lambda doc: doc["maps"][0].__setitem__(4, 1 << 40),
        lambda doc: doc["maps"][0].__setitem__(4, "65536"),
        lambda doc: doc["maps"][1].__setitem__(0, "proc_stats"),  # named twice
        lambda doc: doc["maps"][1].__setitem__(0, "x;rm -rf /"),
        lambda doc: doc["functions"][0].__setitem__(1, doc["functions"][0][1][:-2]),
        lambda doc: doc["functions"][0].__setitem__(1, "zz"),
        lambda doc: doc["functions"][0][2].pop(),  # a map load left unfilled
        lambda doc: doc["functions"][0][2].__setitem__(1, [2, "syscall_stats"]),  # not a load
        lambda doc: doc["functions"][0][2].__setitem__(1, [3, "nowhere"]),
        lambda doc: doc.pop("maps"),
        lambda doc: doc["functions"].append(doc["functions"][0]),
    ],
)
def test_a_damaged_image_is_a_miss(directory: Path, damage) -> None:
    document = stored(directory)
    damage(document)
    rewrite(directory, document)
    assert load_image(directory, KEY) is None


def test_a_file_that_is_not_json_is_a_miss(directory: Path) -> None:
    stored(directory)
    (directory / f"{KEY}.json").write_bytes(b"\xff{\x00")
    assert load_image(directory, KEY) is None
    (directory / f"{KEY}.json").write_text("[1, 2]")
    assert load_image(directory, KEY) is None
    (directory / f"{KEY}.json").write_text("[" * 200_000)  # deeper than the parser recurses
    assert load_image(directory, KEY) is None
    (directory / f"{KEY}.json").write_bytes(b" " * (program_cache.IMAGE_BYTES_AT_MOST + 1))
    assert load_image(directory, KEY) is None


def test_what_others_could_have_written_is_never_loaded(directory: Path, tmp_path: Path) -> None:
    stored(directory)
    path = directory / f"{KEY}.json"
    os.chmod(path, 0o646)
    assert load_image(directory, KEY) is None
    os.chmod(path, 0o600)
    os.chown(path, 4321, -1)
    assert load_image(directory, KEY) is None
    os.chown(path, 0, -1)
    assert load_image(directory, KEY) == IMAGE
    os.chmod(directory, 0o777)
    assert load_image(directory, KEY) is None
    os.chmod(directory, 0o700)
    os.chmod(tmp_path, 0o777)  # a parent anyone could rename it in
    assert load_image(directory, KEY) is None
    os.chmod(tmp_path, 0o700)
    # A link to an image elsewhere is not followed.
    elsewhere = tmp_path / "elsewhere.json"
    path.rename(elsewhere)
    path.symlink_to(elsewhere)
    assert load_image(directory, KEY) is None


def test_a_fifo_where_an_image_would_be_is_a_miss_at_once(directory: Path) -> None:
    """Opening a FIFO for reading waits for a writer: the cache must not."""
    import threading

    stored(directory)
    path = directory / f"{KEY}.json"
    path.unlink()
    os.mkfifo(path, 0o600)
    found: list[object] = []
    reader = threading.Thread(target=lambda: found.append(load_image(directory, KEY)), daemon=True)
    reader.start()
    reader.join(timeout=10)
    if reader.is_alive():  # unblock the thread, then fail
        with open(path, "wb"):
            pass
        reader.join(timeout=10)
        pytest.fail("load_image blocked opening a FIFO")
    assert found == [None]


def test_the_directory_checked_is_the_directory_read(
    directory: Path, tmp_path: Path, monkeypatch
) -> None:
    """A link on the way to the cache, re-pointed after the checks, changes nothing read."""
    stored(directory)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    forged = ProgramImage(IMAGE.maps, IMAGE.functions, "Dual BSD/GPL")
    assert store_image(elsewhere, KEY, forged) is None
    link = tmp_path / "link"
    link.symlink_to(tmp_path)
    checked = program_cache._untrusted_dir

    def check_then_repoint(path: Path) -> str | None:
        why = checked(path)
        link.unlink()
        link.symlink_to(elsewhere.parent / "swapped")
        (elsewhere.parent / "swapped").mkdir(exist_ok=True, mode=0o700)
        (elsewhere.parent / "swapped" / "programs").symlink_to(elsewhere)
        return why

    monkeypatch.setattr(program_cache, "_untrusted_dir", check_then_repoint)
    assert load_image(link / "programs", KEY) == IMAGE


def test_nothing_is_kept_where_others_could_write(directory: Path) -> None:
    directory.mkdir(mode=0o777)
    os.chmod(directory, 0o777)
    why = store_image(directory, KEY, IMAGE)
    assert why is not None and "writable by everyone" in why
    assert list(directory.iterdir()) == []


def test_a_directory_that_cannot_be_made_is_said_not_raised(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    why = store_image(tmp_path / "file" / "programs", KEY, IMAGE)
    assert why is not None and "Not a directory" in why


def test_the_least_recently_used_images_go_first(directory: Path) -> None:
    keys = [f"{index:064x}" for index in range(IMAGES_KEPT + 3)]
    for age, key in enumerate(keys):
        assert store_image(directory, key, IMAGE) is None
        os.utime(directory / f"{key}.json", ns=(age * 10**9, age * 10**9))
    assert load_image(directory, keys[0]) is None  # gone
    assert load_image(directory, keys[4]) == IMAGE  # used now: kept the longest
    assert store_image(directory, "f" * 64, IMAGE) is None
    left = {path.stem for path in directory.glob("*.json")}
    assert len(left) == IMAGES_KEPT
    assert left == {*keys[4:], "f" * 64}  # keys[3], the oldest then, made room


def test_the_cache_can_be_pointed_elsewhere_or_turned_off(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv(program_cache.CACHE_ENV, raising=False)
    assert program_cache.cache_dir() == program_cache.DEFAULT_DIR
    monkeypatch.setenv(program_cache.CACHE_ENV, str(tmp_path))
    assert program_cache.cache_dir() == tmp_path
    monkeypatch.setenv(program_cache.CACHE_ENV, "off")
    assert program_cache.cache_dir() is None
