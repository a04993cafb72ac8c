"""Percentiles and buckets from log2 histograms, as the BPF program fills them."""

from __future__ import annotations

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
