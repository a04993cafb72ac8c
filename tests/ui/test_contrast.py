"""Readable in every theme: every piece of text on every view against its own background
(WCAG contrast, box-drawing and bar glyphs aside), and NO_COLOR with no colour at all."""

from __future__ import annotations

import os

import pytest

from tests.ui.scenes import scene_app

MIN_CONTRAST = 3.0  # WCAG AA for large or bold text; our numbers are bold or short
VIEWS = (
    (),
    ("tab",),
    ("e",),
    ("e", "down", "enter"),
    ("c",),
    ("i",),
    ("a",),
    ("enter",),
    ("tab", "enter"),
    ("question_mark",),
)


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(value: int) -> float:
        v = value / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    red, green, blue = rgb
    return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)


def contrast(foreground: tuple[int, int, int], background: tuple[int, int, int]) -> float:
    """Return the WCAG contrast ratio of two colours."""
    high, low = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def graphic(text: str) -> bool:
    """Box drawing, block elements (sparklines, bars, scrollbars): pictures, not text."""
    return all(0x2500 <= ord(ch) <= 0x259F or ch == " " for ch in text)


def worst_text(app, region=None) -> list[tuple[float, str]]:  # type: ignore[no-untyped-def]
    found = []
    for y, strip in enumerate(app.screen._compositor.render_strips()):
        if region is not None and not region.y <= y < region.y + region.height:
            continue  # behind a modal: faded on purpose, not meant to be read
        x = 0
        for segment in strip:
            start, x = x, x + segment.cell_length
            if region is not None and not region.x <= start < region.x + region.width:
                continue
            style, text = segment.style, segment.text.strip()
            if not text or graphic(text) or style is None:
                continue
            if style.color is None or style.bgcolor is None:
                continue
            fg, bg = style.color.get_truecolor(), style.bgcolor.get_truecolor()
            if style.reverse:
                fg, bg = bg, fg
            if style.dim:
                fg = tuple((f + b) // 2 for f, b in zip(fg, bg, strict=True))  # type: ignore[assignment]
            ratio = contrast(tuple(fg), tuple(bg))  # type: ignore[arg-type]
            if ratio < MIN_CONTRAST:
                found.append((round(ratio, 2), text[:30]))
    return found


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light"])
@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 60)])
async def test_every_text_on_every_view_is_readable(theme: str, size: tuple[int, int]) -> None:
    for keys in VIEWS:
        app = scene_app()
        async with app.run_test(size=size) as pilot:
            app.theme = theme
            app.advance(9)
            await pilot.pause()
            for key in keys:
                await pilot.press(key)
            await pilot.pause()
            modal = app.screen.query("#help-box")
            region = modal.first().region if modal else None
            assert worst_text(app, region) == [], (theme, size, keys)


async def test_no_color_sends_no_colour_and_shows_the_cursor_in_reverse(monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = scene_app()
    async with app.run_test(size=(100, 30)) as pilot:
        app.advance(9)
        await pilot.pause()
        strips = app.screen._compositor.render_strips()
        coloured = [
            segment.text
            for strip in strips
            for segment in strip
            if segment.style is not None
            and any(
                color is not None and not color.is_default
                for color in (segment.style.color, segment.style.bgcolor)
            )
        ]
        assert coloured == []
        syscalls = app.screen.query_one("#syscalls")
        cursor_line = strips[syscalls.content_region.y + 1 + syscalls.cursor_row]
        assert any(s.style is not None and s.style.reverse for s in cursor_line if s.text.strip())
    assert os.environ["NO_COLOR"] == "1"
