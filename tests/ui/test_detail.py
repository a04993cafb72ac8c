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


def test_histogram_folds_empty_buckets_into_one_line() -> None:
    from dataclasses import replace

    from tui.widgets.detail import histogram_lines

    first = reading(0.0, {(9, "w", FUTEX): (0, 0)})
    second = reading(1.0, {(9, "w", FUTEX): (10, 0)})
    row = build_snapshot(first, second, NAMES).syscall(FUTEX)
    assert row is not None
    hist = [0] * 32
    hist[10], hist[20], hist[21] = 5, 1, 2
    lines = [line.plain for line in histogram_lines(replace(row, hist=tuple(hist)))]
    assert len(lines) == 4  # ≥1us, …, ≥1ms, ≥2ms: not the 12 buckets in between
    assert lines[1].strip().startswith("…") and lines[0].strip().startswith("≥1.0us")


def test_a_mean_above_the_p99_is_marked() -> None:
    from tui.model.histogram import LatencySummary
    from tui.widgets.tables import _avg_cell

    skewed = LatencySummary(
        avg_ns=5_000_000, p50_ns=1000, p95_ns=2000, p99_ns=4000, max_ns=9_000_000_000
    )
    text, style = _avg_cell(skewed)
    assert text.endswith("*") and style
    even = LatencySummary(avg_ns=1500, p50_ns=1000, p95_ns=2000, p99_ns=4000, max_ns=5000)
    assert not _avg_cell(even)[0].endswith("*")


def test_latency_heatmap_shades_buckets_over_intervals_slowest_on_top() -> None:
    from tui.widgets.detail import heatmap_lines

    fast = [0] * 32
    fast[10] = 100
    slow = [0] * 32
    slow[10], slow[20] = 10, 100  # a shift to 1 ms in the last interval
    lines = [line.plain for line in heatmap_lines((tuple(fast), tuple(fast), tuple(slow)))]
    assert lines[0].strip().startswith("≥1.0ms") and lines[0].endswith("  █")
    assert lines[-2].strip().startswith("≥1.0us") and lines[-2].endswith("██░")
    assert len(lines) == 20 - 10 + 1 + 1  # buckets 20..10, then the time axis


def test_stream_keeps_each_syscalls_histograms_for_the_heatmap() -> None:
    from tui.model.snapshot import HEATMAP_INTERVALS, SnapshotStream

    stream = SnapshotStream(NAMES)
    stream.push(reading(0.0, {(9, "w", FUTEX): (0, 0)}))
    snapshot = None
    for tick in range(1, 30):
        snapshot = stream.push(reading(float(tick), {(9, "w", FUTEX): (10 * tick, 0)}))
    assert snapshot is not None
    history = snapshot.hist_history[FUTEX]
    assert len(history) == HEATMAP_INTERVALS and all(hist[10] == 10 for hist in history)


def test_a_syscall_left_without_a_histogram_row_says_why_it_has_no_latency() -> None:
    from dataclasses import replace

    first = reading(0.0, {(9, "w", FUTEX): (0, 0)})
    second = replace(reading(1.0, {(9, "w", FUTEX): (10, 0)}), unhistogrammed=frozenset({FUTEX}))
    snapshot = build_snapshot(first, second, NAMES)
    row = snapshot.syscall(FUTEX)
    assert row is not None
    text = detail_renderable(row, snapshot, None, compact_view=False).plain
    assert "no latency: every --hist-rows row was taken before its first call" in text
    assert "percentiles" not in text
