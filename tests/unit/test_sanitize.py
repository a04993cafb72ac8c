"""Hostile strings from processes: no control bytes reach the terminal, output stays UTF-8."""

from __future__ import annotations

import json
import os

from hypothesis import given
from hypothesis import strategies as st

from tui.model.sanitize import MAX_TEXT_LEN, comm_text, safe_text

FORBIDDEN = {chr(c) for c in range(0x20)} | {chr(0x7F)} | {chr(c) for c in range(0x80, 0xA0)}


def assert_safe(text: str) -> None:
    assert not FORBIDDEN & set(text)
    assert not any(0xD800 <= ord(ch) < 0xE000 for ch in text)
    text.encode("utf-8")  # valid UTF-8: raises on lone surrogates
    json.loads(json.dumps(text, ensure_ascii=False))
    assert len(text) <= MAX_TEXT_LEN


def test_escape_sequences_are_made_visible() -> None:
    assert safe_text("\x1b[31mred\x1b[0m") == "\\x1b[31mred\\x1b[0m"
    assert safe_text("\x1b]52;c;ZXZpbA==\x07") == "\\x1b]52;c;ZXZpbA==\\x07"
    assert safe_text("a\x9bb") == "a\\x9bb"  # C1 CSI
    assert safe_text("tab\there") == "tab\\x09here"
    assert safe_text("\u202eevil") == "\\u202eevil"  # right-to-left override


def test_markup_is_left_literal_for_the_ui_to_render_as_text() -> None:
    assert safe_text("[bold]x[/bold]") == "[bold]x[/bold]"


def test_invalid_utf8_bytes_are_escaped() -> None:
    assert safe_text(b"ok\xff\xfe") == "ok\\xff\\xfe"
    assert comm_text(b"nginx\x00\x00garbage") == "nginx"


def test_long_text_is_bounded() -> None:
    assert len(safe_text("x" * 10_000)) == MAX_TEXT_LEN
    assert safe_text("x" * 10_000).endswith("…")


@given(st.binary(max_size=400))
def test_any_bytes_become_safe_text(raw: bytes) -> None:
    assert_safe(safe_text(raw))


@given(st.text(max_size=400))
def test_any_unicode_becomes_safe_text(text: str) -> None:
    assert_safe(safe_text(text))


@given(st.lists(st.integers(min_value=0, max_value=0x10FFFF), max_size=100))
def test_any_code_points_including_surrogates(codes: list[int]) -> None:
    assert_safe(safe_text("".join(map(chr, codes))))


def test_every_single_byte_value() -> None:
    for value in range(256):
        assert_safe(safe_text(bytes([value])))
        assert_safe(safe_text(chr(value)))


def test_every_format_and_invisible_character_is_escaped_not_a_fixed_list() -> None:
    # Zero-width joiner, word joiner, Arabic letter mark, Mongolian vowel separator, a tag
    # character, a variation selector, the Hangul filler, no-break space, an unassigned and a
    # private-use code point: each is drawn as nothing (or as a plain space).
    for char, shown in [
        ("\u200d", "\\u200d"),
        ("\u2060", "\\u2060"),
        ("\u061c", "\\u061c"),
        ("\u180e", "\\u180e"),
        ("\U000e0041", "\\U000e0041"),
        ("\ufe0f", "\\ufe0f"),
        ("\u3164", "\\u3164"),
        ("\u00a0", "\\xa0"),
        ("\u0378", "\\u0378"),
        ("\ue000", "\\ue000"),
    ]:
        assert safe_text(f"a{char}b") == f"a{shown}b", repr(char)
    assert safe_text("naïve café 日本 ✓") == "naïve café 日本 ✓"


@given(st.text(max_size=200))
def test_nothing_unprintable_survives(text: str) -> None:
    assert all(ch.isprintable() for ch in safe_text(text))


def test_bytes_decoded_from_a_file_name_read_as_the_bytes_they_were() -> None:
    # os.fsdecode keeps bytes that are not UTF-8 as lone surrogates (cgroup and file names):
    # they read as the byte, as in a path decoded from raw bytes, not as a code point.
    name = os.fsdecode(b"rv-\xff[x]\x1b.service")
    assert safe_text(name) == safe_text(b"rv-\xff[x]\x1b.service") == "rv-\\xff[x]\\x1b.service"
    assert safe_text("\udcff\ud800") == "\\xff\\ud800"  # only the byte escapes are bytes
