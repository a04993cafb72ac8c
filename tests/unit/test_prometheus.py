"""The metrics exposition: names, labels, log2 buckets, bounded per-process series."""

from __future__ import annotations

import pytest
from prometheus_client import generate_latest
from prometheus_client.registry import CollectorRegistry

from tui.export.prometheus import TOP_PROCESSES, SyscallMetrics, parse_listen
from tui.model.names import SyscallNames
from tui.model.snapshot import SnapshotStream
from tui.sources.fake_source import FakeSource

NAMES = SyscallNames("x86_64")


def exposition() -> str:
    source, stream, metrics = FakeSource(), SnapshotStream(NAMES), SyscallMetrics(NAMES)
    for _ in range(3):
        reading = source.read()
        metrics.update(reading, stream.push(reading))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(metrics)
    return generate_latest(registry).decode()


def test_counters_histograms_and_errnos() -> None:
    text = exposition()
    assert 'syscalltop_syscalls_total{syscall="openat"}' in text
    assert 'syscalltop_syscall_errors_total{errno="ENOENT",syscall="openat"}' in text
    assert 'syscalltop_syscall_latency_seconds_bucket{le="1.6384e-05",syscall="openat"}' in text
    assert 'syscalltop_syscall_latency_seconds_bucket{le="+Inf",syscall="openat"}' in text
    assert 'syscalltop_syscalls_total{syscall="getppid (i386)"}' in text
    assert "syscalltop_lost_samples_total 0.0" in text


def test_per_process_series_are_bounded_and_hostile_comms_escaped() -> None:
    text = exposition()
    pids = {
        line.split('pid="')[1].split('"')[0]
        for line in text.splitlines()
        if line.startswith("syscalltop_process_error_rate{")
    }
    assert 0 < len(pids) <= TOP_PROCESSES
    assert "\x1b" not in text


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("9101", ("127.0.0.1", 9101)),
        ("0.0.0.0:9101", ("0.0.0.0", 9101)),
        ("[::1]:9101", ("::1", 9101)),
    ],
)
def test_parse_listen(text: str, parsed: tuple[str, int]) -> None:
    assert parse_listen(text) == parsed


def test_shipped_examples_use_our_metric_names() -> None:
    import json

    from tests.conftest import REPO

    dashboard = json.loads((REPO / "examples" / "grafana-dashboard.json").read_text())
    exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p["targets"])
    for name in (
        "syscalltop_syscalls_total",
        "syscalltop_syscall_errors_total",
        "syscalltop_syscall_latency_seconds_bucket",
        "syscalltop_process_syscall_rate",
        "syscalltop_group_syscall_rate",
    ):
        assert name in exprs
    assert "job_name: syscalltop" in (REPO / "examples" / "prometheus.yml").read_text()


def test_captures_are_counted_by_syscall_and_no_path_becomes_a_label() -> None:
    text = exposition()
    # The fake nginx fails openat 120 times a tick; the budget sends 2 a tick (3 ticks).
    assert 'syscalltop_captured_calls_total{reason="failed",syscall="openat"} 6.0' in text
    assert 'syscalltop_capture_suppressed_total{reason="failed",syscall="openat"} 354.0' in text
    assert "/etc/nginx" not in text and "favicon" not in text


def test_group_series_are_top_k_plus_other() -> None:
    source, stream, metrics = (
        FakeSource(),
        SnapshotStream(NAMES),
        SyscallMetrics(NAMES, top_groups=2),
    )
    for _ in range(3):
        reading = source.read()
        metrics.update(reading, stream.push(reading))
    text = metrics.exposition().decode()
    series = [
        line for line in text.splitlines() if line.startswith("syscalltop_group_syscall_rate{")
    ]
    assert len(series) == 3
    assert 'group="docker:4f2c1d9e8b7a",kind="docker"' in series[0]
    assert any('group="other",kind="other"' in line for line in series)
