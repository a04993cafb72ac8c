"""The detail pane's errno line: one window at a time, kernel-internal codes explained."""

from __future__ import annotations

from tests.unit.test_view import FUTEX, NAMES, reading
from tui.model.snapshot import build_snapshot
from tui.widgets.detail import detail_renderable


def detail_text(first, second, slot: int) -> str:
    snapshot = build_snapshot(first, second, NAMES)
    row = snapshot.syscall(slot)
    assert row is not None
    return detail_renderable(row, snapshot, None, compact_view=True).plain


def test_errors_of_this_interval_with_restart_codes_named_and_explained() -> None:
    first = reading(0.0, {(9, "w", FUTEX): (0, 0)})
    second = reading(1.0, {(9, "w", FUTEX): (10, 4)}, {(FUTEX, 512): 3, (FUTEX, 110): 1})
    text = detail_text(first, second, FUTEX)
    assert "errors 4/s (40.0%) ERESTARTSYS 3  ETIMEDOUT 1" in text
    assert "ERESTARTSYS: kernel-internal" in text


def test_an_interval_without_errors_says_the_counts_are_since_start() -> None:
    first = reading(0.0, {(9, "w", FUTEX): (5, 2)}, {(FUTEX, 110): 2})
    second = reading(1.0, {(9, "w", FUTEX): (9, 2)}, {(FUTEX, 110): 2})
    text = detail_text(first, second, FUTEX)
    assert "no errors this interval; since start ETIMEDOUT 2" in text
    assert "errors 0/s" not in text
