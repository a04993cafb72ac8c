"""Make strings from processes safe to print: no control bytes, valid UTF-8, bounded length."""

from __future__ import annotations

MAX_TEXT_LEN = 256
CMDLINE_MAX = 512


# Printable by Unicode's rules yet drawn as nothing: Hangul and Khmer fillers, variation
# selectors. (Everything str.isprintable() rejects is escaped too: controls, the whole format
# class Cf with bidi marks and zero-width joiners, separators, surrogates, private use and
# unassigned code points.)
_INVISIBLE = frozenset(
    [0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0, *range(0xFE00, 0xFE10)]
) | frozenset(range(0xE0100, 0xE01F0))


def _visible(char: str) -> str:
    code = ord(char)
    if (char.isprintable() and code not in _INVISIBLE) or char == " ":
        return char
    if code < 0x100:
        return f"\\x{code:02x}"
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"  # a byte os.fsdecode could not decode: show the byte
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def safe_text(value: str | bytes, max_len: int = MAX_TEXT_LEN) -> str:
    """Return `value` with control and invisible characters escaped and length bounded."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="backslashreplace")
    if value.isprintable() and len(value) <= max_len and value.isascii():
        return value
    out = "".join(_visible(char) for char in value)
    if len(out) > max_len:
        out = out[: max_len - 1] + "…"
    return out


def comm_text(raw: bytes) -> str:
    """Return a kernel comm buffer (NUL padded, up to 16 bytes) as safe text."""
    return safe_text(raw.split(b"\0", 1)[0])
