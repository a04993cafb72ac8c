"""Latency figures from log2 histograms: bucket b holds durations in [2^b, 2^(b+1)) ns."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

SUMMARY_FRACTIONS = (0.50, 0.95, 0.99)


def bucket_bounds_ns(bucket: int) -> tuple[int, int]:
    """Return the [low, high) bounds in ns of a log2 bucket (bucket 0 also holds 0)."""
    return (0 if bucket == 0 else 1 << bucket), 1 << (bucket + 1)


def bucket_of(duration_ns: int, bucket_count: int) -> int:
    """Return the bucket a duration falls in, as the BPF program computes it."""
    bucket = max(duration_ns, 1).bit_length() - 1
    return min(bucket, bucket_count - 1)


def percentile_ns(hist: Sequence[int], fraction: float) -> int | None:
    """Estimate a percentile as the upper bound of the bucket holding it (None if empty)."""
    total = sum(hist)
    if total == 0:
        return None
    rank = max(1, math.ceil(total * fraction - 1e-9))
    seen = 0
    for bucket, count in enumerate(hist):
        seen += count
        if seen >= rank:
            return bucket_bounds_ns(bucket)[1]
    return bucket_bounds_ns(len(hist) - 1)[1]


@functools.lru_cache(maxsize=4096)
def _summary_bounds(hist: tuple[int, ...]) -> tuple[int, int, int, int]:
    """Return the p50, p95, p99 and highest bucket bounds of a non-empty histogram, in one pass.

    Memoised: under process churn thousands of entries share one histogram tuple.
    """
    total = sum(hist)
    ranks = [max(1, math.ceil(total * fraction - 1e-9)) for fraction in SUMMARY_FRACTIONS]
    bounds: list[int] = []
    seen = 0
    highest = 0
    for bucket, count in enumerate(hist):
        if not count:
            continue
        seen += count
        highest = 1 << (bucket + 1)
        while len(bounds) < len(ranks) and seen >= ranks[len(bounds)]:
            bounds.append(highest)
    p50, p95, p99 = bounds
    return p50, p95, p99, highest


def highest_bound_ns(hist: Sequence[int]) -> int | None:
    """Return the upper bound of the highest non-empty bucket (None if empty)."""
    for bucket in range(len(hist) - 1, -1, -1):
        if hist[bucket]:
            return bucket_bounds_ns(bucket)[1]
    return None


@dataclass(frozen=True, slots=True)
class LatencySummary:
    """Latency of a set of calls; percentiles are log2-bucket upper bounds."""

    avg_ns: int | None
    p50_ns: int | None
    p95_ns: int | None
    p99_ns: int | None
    max_ns: int | None

    @classmethod
    def from_hist(cls, hist: Sequence[int], sum_ns: int, max_ns: int | None) -> LatencySummary:
        """Summarise a histogram and its exact sum (and max where known)."""
        timed = sum(hist)
        if timed == 0:
            return EMPTY_LATENCY
        p50, p95, p99, highest = _summary_bounds(tuple(hist))
        if not max_ns:
            max_ns = highest
        # A bucket's upper bound can exceed the largest call actually seen.
        return cls(
            avg_ns=sum_ns // timed,
            p50_ns=min(p50, max_ns),
            p95_ns=min(p95, max_ns),
            p99_ns=min(p99, max_ns),
            max_ns=max_ns,
        )

    def as_dict(self) -> dict[str, int | None]:
        """Return the JSON shape: avg_ns, p50_ns, p95_ns, p99_ns, max_ns."""
        return {
            "avg_ns": self.avg_ns,
            "p50_ns": self.p50_ns,
            "p95_ns": self.p95_ns,
            "p99_ns": self.p99_ns,
            "max_ns": self.max_ns,
        }


EMPTY_LATENCY = LatencySummary(None, None, None, None, None)
