"""Percentiles and buckets from log2 histograms, as the BPF program fills them."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from tui.model.histogram import (
    LatencySummary,
    bucket_bounds_ns,
    bucket_of,
    highest_bound_ns,
    percentile_ns,
)


def hist_with(counts: dict[int, int]) -> list[int]:
    hist = [0] * 32
    for bucket, count in counts.items():
        hist[bucket] = count
    return hist


def test_bucket_of_matches_log2() -> None:
    assert bucket_of(0, 32) == 0
    assert bucket_of(1, 32) == 0
    assert bucket_of(2, 32) == 1
    assert bucket_of(2_000_000, 32) == 20  # 2 ms lies in [1.05 ms, 2.10 ms)
    assert bucket_of(2_100_000, 32) == 21
    assert bucket_of(1 << 40, 32) == 31  # the last bucket is open-ended
    assert bucket_bounds_ns(20) == (1 << 20, 1 << 21)


def test_percentiles_are_bucket_upper_bounds() -> None:
    hist = hist_with({10: 90, 20: 9, 25: 1})
    assert percentile_ns(hist, 0.50) == 1 << 11
    assert percentile_ns(hist, 0.90) == 1 << 11
    assert percentile_ns(hist, 0.95) == 1 << 21
    assert percentile_ns(hist, 0.99) == 1 << 21
    assert percentile_ns(hist, 1.0) == 1 << 26
    assert percentile_ns([0] * 32, 0.5) is None


def test_summary_caps_estimates_at_the_true_max() -> None:
    hist = hist_with({21: 10})
    summary = LatencySummary.from_hist(hist, sum_ns=10 * 2_200_000, max_ns=2_300_000)
    assert summary.avg_ns == 2_200_000
    assert summary.p50_ns == 2_300_000
    assert summary.p99_ns == 2_300_000
    assert summary.max_ns == 2_300_000


def test_empty_summary() -> None:
    summary = LatencySummary.from_hist([0] * 32, 0, None)
    assert summary.as_dict() == {
        "avg_ns": None,
        "p50_ns": None,
        "p95_ns": None,
        "p99_ns": None,
        "max_ns": None,
    }


@given(
    st.lists(st.integers(0, 10**12), min_size=32, max_size=32),
    st.integers(0, 10**15),
    st.one_of(st.none(), st.integers(0, 1 << 40)),
)
def test_summary_agrees_with_percentiles_of_the_same_histogram(
    hist: list[int], sum_ns: int, max_ns: int | None
) -> None:
    summary = LatencySummary.from_hist(hist, sum_ns, max_ns)
    if not any(hist):
        assert summary.p50_ns is None
        return
    cap = max_ns or highest_bound_ns(hist)
    assert cap is not None
    for value, fraction in ((summary.p50_ns, 0.50), (summary.p95_ns, 0.95), (summary.p99_ns, 0.99)):
        estimate = percentile_ns(hist, fraction)
        assert estimate is not None and value == min(estimate, cap)
    assert summary.max_ns == cap


# -- log-linear ("fine") histograms: log2 buckets cut in 8 linear sub-buckets ---------------

from tui.model.histogram import (  # noqa: E402
    FINE_BUCKETS,
    fine_bounds_ns,
    fine_index,
    fine_percentile_ns,
    fine_to_log2,
)


def test_fine_buckets_tile_the_line_and_nest_in_log2_buckets() -> None:
    high = 0
    for index in range(FINE_BUCKETS - 1):
        low, next_high = fine_bounds_ns(index)
        assert low == high  # no gap, no overlap
        assert fine_index(low) == index and fine_index(next_high - 1) == index
        assert bucket_of(low, 32) == bucket_of(next_high - 1, 32)  # inside one log2 bucket
        high = next_high
    assert fine_index(1 << 50) == FINE_BUCKETS - 1  # the last one is open-ended


@given(st.integers(min_value=8, max_value=(1 << 35) - 1))
def test_a_fine_bucket_is_at_most_an_eighth_of_its_low_bound_wide(value: int) -> None:
    low, high = fine_bounds_ns(fine_index(value))
    assert low <= value < high
    assert (high - low) * 8 <= low


def test_percentiles_of_the_sleep_workload_are_within_ten_percent() -> None:
    """600 calls near 0.585 ms and 300 near 10.1 ms: log2 bounds said 1.048 and 10.36 ms."""
    durations = [585_000 + 37 * i for i in range(600)] + [10_100_000 + 900 * i for i in range(300)]
    fine = [0] * FINE_BUCKETS
    for duration in durations:
        fine[fine_index(duration)] += 1
    ordered = sorted(durations)
    for fraction in (0.50, 0.95, 0.99):
        truth = ordered[math.ceil(len(ordered) * fraction) - 1]
        estimate = fine_percentile_ns(fine, fraction)
        assert estimate is not None and abs(estimate - truth) <= truth // 10, fraction
    summary = LatencySummary.from_hist(
        fine_to_log2(fine, 32), sum(durations), max(durations), fine_hist=tuple(fine)
    )
    assert abs(summary.p50_ns - 585_000 - 37 * 449) <= 60_000
    assert summary.p99_ns <= summary.max_ns == max(durations)


def test_fine_to_log2_keeps_every_count_in_its_log2_bucket() -> None:
    fine = [0] * FINE_BUCKETS
    for value in (0, 1, 5, 8, 1000, 2_000_000, 1 << 34):
        fine[fine_index(value)] += 1
    coarse = fine_to_log2(fine, 32)
    expected = [0] * 32
    for value in (0, 1, 5, 8, 1000, 2_000_000, 1 << 34):
        expected[bucket_of(value, 32)] += 1
    assert list(coarse) == expected
