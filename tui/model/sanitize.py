"""Make strings from processes safe to print: no control bytes, valid UTF-8, bounded length."""

from __future__ import annotations

MAX_TEXT_LEN = 256


def _visible(char: str) -> str:
    code = ord(char)
    if code < 0x20 or code == 0x7F:
        return f"\\x{code:02x}"
    if 0x80 <= code < 0xA0:
        return f"\\x{code:02x}"
    if 0xD800 <= code < 0xE000:
        return f"\\u{code:04x}"
    # Bidi overrides and zero-width marks can disguise what a name says.
    if code in (0x200B, 0x200E, 0x200F, 0x2028, 0x2029, 0xFEFF) or 0x202A <= code <= 0x202E:
        return f"\\u{code:04x}"
    if 0x2066 <= code <= 0x2069:
        return f"\\u{code:04x}"
    return char


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
