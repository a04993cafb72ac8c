"""Latency figures from histograms the BPF program fills.

Log2 buckets (per process): bucket b holds durations in [2^b, 2^(b+1)) ns, so a percentile
is known within a factor of 2. Log-linear ("fine") buckets (per syscall): each log2 bucket
from 8 ns up is cut in 8 equal sub-buckets, so a bucket is at most 1/8 of its low bound wide
and its midpoint is within 6.25% of any duration in it (HdrHistogram's scheme, 3 bits).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

SUMMARY_FRACTIONS = (0.50, 0.95, 0.99)
SUB_BUCKET_BITS = 3  # bpf/syscalls.h FINE_SUB_BITS
SUB_BUCKETS = 1 << SUB_BUCKET_BITS
FINE_LOG2_TOP = 35  # the last fine log2 range starts at 2^35 ns (34 s); it is open-ended
FINE_BUCKETS = SUB_BUCKETS + (FINE_LOG2_TOP - SUB_BUCKET_BITS + 1) * SUB_BUCKETS  # 272


def fine_index(duration_ns: int) -> int:
    """Return the fine bucket of a duration, as the BPF program computes it."""
    if duration_ns < SUB_BUCKETS:
        return max(duration_ns, 0)
    log2 = min(duration_ns.bit_length() - 1, FINE_LOG2_TOP)
    sub = (duration_ns >> (log2 - SUB_BUCKET_BITS)) & (SUB_BUCKETS - 1)
    if duration_ns >> (FINE_LOG2_TOP + 1):
        sub = SUB_BUCKETS - 1
    return (log2 - SUB_BUCKET_BITS + 1) * SUB_BUCKETS + sub


def fine_bounds_ns(index: int) -> tuple[int, int]:
    """Return the [low, high) bounds in ns of a fine bucket."""
    if index < SUB_BUCKETS:
        return index, index + 1
    log2 = index // SUB_BUCKETS + SUB_BUCKET_BITS - 1
    sub = index % SUB_BUCKETS
    step = 1 << (log2 - SUB_BUCKET_BITS)
    return (SUB_BUCKETS + sub) * step, (SUB_BUCKETS + sub + 1) * step


def fine_to_log2(fine: Sequence[int], bucket_count: int) -> tuple[int, ...]:
    """Return the log2 histogram a fine one nests in (fine buckets never straddle two)."""
    coarse = [0] * bucket_count
    for index, count in enumerate(fine):
        if count:
            coarse[bucket_of(fine_bounds_ns(index)[0], bucket_count)] += count
    return tuple(coarse)


def fine_percentile_ns(fine: Sequence[int], fraction: float) -> int | None:
    """Estimate a percentile as the midpoint of the fine bucket holding it (None if empty)."""
    return _fine_points(tuple(fine), (fraction,))[0]


@functools.lru_cache(maxsize=1024)
def _fine_points(fine: tuple[int, ...], fractions: tuple[float, ...]) -> tuple[int | None, ...]:
    total = sum(fine)
    if total == 0:
        return (None,) * len(fractions)
    ranks = [max(1, math.ceil(total * fraction - 1e-9)) for fraction in fractions]
    points: list[int | None] = []
    seen = 0
    for index, count in enumerate(fine):
        if not count:
            continue
        seen += count
        while len(points) < len(ranks) and seen >= ranks[len(points)]:
            low, high = fine_bounds_ns(index)
            points.append((low + high) // 2 if index < FINE_BUCKETS - 1 else low)
    return tuple(points)


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
    fine: bool = False  # percentiles from log-linear buckets (within 6.25%), not log2 bounds

    @classmethod
    def from_hist(
        cls,
        hist: Sequence[int],
        sum_ns: int,
        max_ns: int | None,
        fine_hist: tuple[int, ...] = (),
    ) -> LatencySummary:
        """Summarise a histogram and its exact sum (and max where known); with a fine
        histogram of the same calls, percentiles are its bucket midpoints (within 6.25%)."""
        timed = sum(hist)
        if timed == 0:
            return EMPTY_LATENCY
        p50, p95, p99, highest = _summary_bounds(tuple(hist))
        if not max_ns:
            max_ns = highest
        fine = _fine_points(fine_hist, SUMMARY_FRACTIONS) if fine_hist else (None,)
        if None not in fine:
            p50, p95, p99 = (int(point) for point in fine)  # type: ignore[arg-type]
        # A bucket's upper bound can exceed the largest call actually seen.
        return cls(
            avg_ns=sum_ns // timed,
            p50_ns=min(p50, max_ns),
            p95_ns=min(p95, max_ns),
            p99_ns=min(p99, max_ns),
            max_ns=max_ns,
            fine=None not in fine,
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
