"""Write a tiny static i386 ELF that calls getppid N times, then exit: a real compat task."""

from __future__ import annotations

import struct
from pathlib import Path

LOAD_ADDRESS = 0x08048000
I386_GETPPID = 64
I386_EXIT = 1


def getppid_program(calls: int) -> bytes:
    """Return i386 machine code: `calls` x getppid via int 0x80, then exit(0)."""
    loop = (
        b"\xb8"
        + struct.pack("<I", I386_GETPPID)  # mov eax, 64
        + b"\xcd\x80"  # int 0x80
        + b"\x49"  # dec ecx (the kernel preserves ecx across the call)
    )
    jump_back = -(len(loop) + 2)
    return (
        b"\xb9"
        + struct.pack("<I", calls)  # mov ecx, calls
        + loop
        + b"\x75"
        + struct.pack("<b", jump_back)  # jnz loop
        + b"\xb8"
        + struct.pack("<I", I386_EXIT)  # mov eax, 1
        + b"\x31\xdb"  # xor ebx, ebx
        + b"\xcd\x80"  # int 0x80
    )


def write_getppid_elf(path: Path, calls: int) -> Path:
    """Write the executable to `path` and return it."""
    header_size, phdr_size = 52, 32
    code = getppid_program(calls)
    total = header_size + phdr_size + len(code)
    ident = b"\x7fELF" + bytes([1, 1, 1, 0]) + bytes(8)
    elf_header = ident + struct.pack(
        "<HHIIIIIHHHHHH",
        2,  # ET_EXEC
        3,  # EM_386
        1,
        LOAD_ADDRESS + header_size + phdr_size,  # entry
        header_size,  # program headers right after this header
        0,
        0,
        header_size,
        phdr_size,
        1,
        0,
        0,
        0,
    )
    program_header = struct.pack(
        "<IIIIIIII", 1, 0, LOAD_ADDRESS, LOAD_ADDRESS, total, total, 5, 0x1000
    )
    path.write_bytes(elf_header + program_header + code)
    path.chmod(0o755)
    return path
