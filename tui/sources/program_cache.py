"""Compiled BPF programs kept on disk: a start with the same program skips BCC's compile.

An image is what the compile made (each map's shape, each function's instructions with the
places that name a map) keyed by everything that shaped it: the program text, BCC, the
kernel, the header tree and the CPUs. What it holds runs in the kernel, so it is read only
from a directory and a file that nobody but root (or us) could have written, and checked
field by field; anything else is a miss, and the compile makes a fresh one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tui.sources.kernel_headers import unsafe_reason

DEFAULT_DIR = Path("/var/cache/syscalltop/programs")
CACHE_ENV = "SYSCALLTOP_PROGRAM_CACHE"  # a directory, or "off"
FORMAT = 1
IMAGES_KEPT = 16  # distinct configurations; the least recently used go first
IMAGE_BYTES_AT_MOST = 8 << 20
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
INSN_SIZE = 8
LD_IMM64 = 0x18  # BPF_LD | BPF_IMM | BPF_DW: two instructions, the first's imm a map fd here
PSEUDO_MAP_SOURCES = (1, 2)  # BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE
# Map types the program declares (array, hash, per-CPU array and hash, perf event array):
# nothing in an image may ask the kernel for another kind.
MAP_TYPES = frozenset({1, 2, 4, 5, 6})
_U32 = 1 << 32


@dataclass(frozen=True)
class MapSpec:
    """One map as the compile declared it."""

    name: str
    map_type: int
    key_size: int
    value_size: int
    max_entries: int
    flags: int


@dataclass(frozen=True)
class FunctionImage:
    """One function's instructions; `map_refs` are (instruction index, map name) of the
    instructions that load a map's fd, zeroed here and filled at load time."""

    name: str
    insns: bytes
    map_refs: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class ProgramImage:
    """What a compile made, ready to load without it."""

    maps: tuple[MapSpec, ...]
    functions: tuple[FunctionImage, ...]
    license: str

    def function(self, name: str) -> FunctionImage | None:
        """Return the function called `name`, or None."""
        return next((each for each in self.functions if each.name == name), None)


def map_refs_of(insns: bytes) -> list[tuple[int, int]]:
    """Return (instruction index, map fd) of each instruction that loads a map's fd."""
    found = []
    index = 0
    count = len(insns) // INSN_SIZE
    while index < count:
        offset = index * INSN_SIZE
        if insns[offset] == LD_IMM64:
            if insns[offset + 1] >> 4 in PSEUDO_MAP_SOURCES:
                found.append((index, int.from_bytes(insns[offset + 4 : offset + 8], "little")))
            index += 2  # the second half carries the high word (or the value offset)
            continue
        index += 1
    return found


def with_fds(
    function: FunctionImage, fds: dict[str, int], constants: dict[int, int] | None = None
) -> bytes:
    """Return the function's instructions with each map reference set to that map's fd, and
    each immediate that is a placeholder in `constants` set to its value."""
    insns = bytearray(function.insns)
    for index, name in function.map_refs:
        offset = index * INSN_SIZE + 4
        insns[offset : offset + 4] = fds[name].to_bytes(4, "little")
    if constants:
        for offset in range(4, len(insns), INSN_SIZE):
            value = constants.get(int.from_bytes(insns[offset : offset + 4], "little"))
            if value is not None:
                insns[offset : offset + 4] = value.to_bytes(4, "little")
    return bytes(insns)


def missing_immediates(image: ProgramImage, values: Iterable[int]) -> set[int]:
    """Return which of `values` no instruction of the image has as its immediate (either
    half of a 64-bit constant included: its second slot's immediate is the high word)."""
    wanted = set(values)
    for function in image.functions:
        insns = function.insns
        for offset in range(4, len(insns), INSN_SIZE):
            wanted.discard(int.from_bytes(insns[offset : offset + 4], "little"))
            if not wanted:
                return wanted
    return wanted


def image_key(text: str, facts: Iterable[str]) -> str:
    """Return the cache key of a program: its text and what else shaped its compile."""
    digest = hashlib.sha256(f"syscalltop program image {FORMAT}\0".encode())
    for fact in facts:
        digest.update(fact.encode(errors="surrogateescape") + b"\0")
    digest.update(text.encode())
    return digest.hexdigest()


def cache_dir() -> Path | None:
    """Return where images are kept ($SYSCALLTOP_PROGRAM_CACHE; "off": nowhere)."""
    configured = os.environ.get(CACHE_ENV)
    if configured is None:
        return DEFAULT_DIR
    if configured in ("", "off"):
        return None
    return Path(configured)


def load_image(directory: Path, key: str) -> ProgramImage | None:
    """Return the image stored under `key`, or None when there is none to trust."""
    try:
        # The path checked is the path opened: no link on the way can be re-pointed between.
        directory = directory.resolve(strict=True)
        if _untrusted_dir(directory) is not None:
            return None
        # Non-blocking: a FIFO put there would wait for a writer; it is then no regular file.
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
        fd = os.open(directory / f"{key}.json", flags)
    except (OSError, RuntimeError):  # RuntimeError: a loop of links
        return None
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(file.fileno())
        if (
            not stat.S_ISREG(info.st_mode)
            or unsafe_reason(info) is not None
            or info.st_size > IMAGE_BYTES_AT_MOST
        ):
            return None
        try:
            image = _parse(json.loads(file.read(IMAGE_BYTES_AT_MOST)), key)
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            return None
        with contextlib.suppress(OSError):
            os.utime(file.fileno())  # recently used: kept the longest
    return image


def store_image(directory: Path, key: str, image: ProgramImage) -> str | None:
    """Keep `image` under `key`; return why it could not be kept (nothing is lost then)."""
    document = {
        "format": FORMAT,
        "key": key,
        "license": image.license,
        "maps": [
            [spec.name, spec.map_type, spec.key_size, spec.value_size, spec.max_entries, spec.flags]
            for spec in image.maps
        ],
        "functions": [
            [each.name, each.insns.hex(), [list(ref) for ref in each.map_refs]]
            for each in image.functions
        ],
    }
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        directory = directory.resolve(strict=True)  # as load_image: checked is written
        why = _untrusted_dir(directory)
        if why is not None:
            return f"{directory} is {why}"
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=".image-", suffix=".tmp")
        try:
            with os.fdopen(handle, "w") as file:
                json.dump(document, file, separators=(",", ":"))
            os.replace(temporary, directory / f"{key}.json")
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        _evict(directory)
    except OSError as error:
        return f"{directory}: {error.strerror or error}"
    except RuntimeError:  # resolve(): a loop of links
        return f"{directory}: a loop of symbolic links"
    return None


def cache_state() -> tuple[bool, str]:
    """Return whether starts can use kept images, and a line on where they are kept."""
    directory = cache_dir()
    if directory is None:
        return False, f"off ({CACHE_ENV}=off): every start compiles"
    try:
        why = _untrusted_dir(directory)
    except FileNotFoundError:
        return True, f"{directory}, empty (the first start keeps what it compiles)"
    except OSError as error:
        return False, f"{directory}: {error.strerror}; every start compiles"
    if why is not None:
        return False, f"{directory} is {why}: every start compiles"
    kept = sum(1 for path in directory.glob("*.json") if path.is_file())
    return True, f"{directory}, {kept} kept (a start with one loads it with no compile)"


def _untrusted_dir(directory: Path) -> str | None:
    """Return why `directory` could hold a file someone else wrote, or None."""
    info = os.lstat(directory)
    if not stat.S_ISDIR(info.st_mode):
        return "not a directory"
    for ancestor in directory.resolve().parents:  # one of them could swap the directory
        why = unsafe_reason(os.stat(ancestor), ancestor=True)
        if why is not None:
            return f"under {ancestor}, {why}"
    return unsafe_reason(info)


def _evict(directory: Path) -> None:
    """Remove all but the IMAGES_KEPT most recently used images."""
    images = []
    for entry in os.scandir(directory):
        if entry.name.endswith(".json") and entry.is_file(follow_symlinks=False):
            images.append((entry.stat(follow_symlinks=False).st_mtime_ns, entry.path))
    for _, path in sorted(images, reverse=True)[IMAGES_KEPT:]:
        with contextlib.suppress(OSError):
            os.unlink(path)


def _parse(document: dict[str, object], key: str) -> ProgramImage:
    """Build an image from a stored document, or raise ValueError on anything out of shape."""
    # type(): 1.0 and True equal 1, and no store writes them.
    if (
        type(document["format"]) is not int
        or document["format"] != FORMAT
        or document["key"] != key
    ):
        raise ValueError("another format or key")
    license_text = document["license"]
    if not isinstance(license_text, str) or not license_text.isprintable():
        raise ValueError("license")
    maps = tuple(_map_spec(each) for each in _list(document["maps"]))
    names = {spec.name for spec in maps}
    if len(names) != len(maps):
        raise ValueError("a map named twice")
    functions = tuple(_function(each, names) for each in _list(document["functions"]))
    if len({each.name for each in functions}) != len(functions):
        raise ValueError("a function named twice")
    return ProgramImage(maps, functions, license_text)


def _list(value: object) -> list[object]:
    if not isinstance(value, list):
        raise ValueError("not a list")
    return value


def _name(value: object) -> str:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise ValueError("a name")
    return value


def _u32(value: object, low: int = 0) -> int:
    if type(value) is not int or not low <= value < _U32:
        raise ValueError("a number")
    return value


def _map_spec(value: object) -> MapSpec:
    name, map_type, key_size, value_size, max_entries, flags = _list(value)
    spec = MapSpec(
        _name(name),
        _u32(map_type),
        _u32(key_size, 1),
        _u32(value_size, 1),
        _u32(max_entries, 1),
        _u32(flags),
    )
    if spec.map_type not in MAP_TYPES:
        raise ValueError("a map type")
    return spec


def _function(value: object, map_names: set[str]) -> FunctionImage:
    name, insns_hex, refs = _list(value)
    if not isinstance(insns_hex, str):
        raise ValueError("instructions")
    insns = bytes.fromhex(insns_hex)
    if not insns or len(insns) % INSN_SIZE:
        raise ValueError("instructions")
    map_refs = []
    for ref in _list(refs):
        index, map_name = _list(ref)
        map_refs.append((_u32(index), _name(map_name)))
        if map_name not in map_names:
            raise ValueError("a map reference")
    # Exactly the instructions that load a map fd, each filled from a map of this image.
    if [index for index, _ in map_refs] != [index for index, _ in map_refs_of(insns)]:
        raise ValueError("map references")
    return FunctionImage(_name(name), insns, tuple(map_refs))
