"""Prometheus metrics of the newest interval, served by prometheus_client on /metrics.

Cardinality is bounded: per-syscall series (at most one per syscall and errno), and
per-process series only for the TOP_PROCESSES busiest processes of the last interval.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import CollectorRegistry

from tui.model.histogram import bucket_bounds_ns
from tui.model.names import SyscallNames, errno_name
from tui.model.readings import RawReading
from tui.model.snapshot import Snapshot

TOP_PROCESSES = 10
TOP_GROUPS = 10
DEFAULT_ADDRESS = "127.0.0.1"


def parse_listen(text: str) -> tuple[str, int]:
    """Return (address, port) of `[ADDR:]PORT`; raise ValueError when it is not one."""
    address, _, port = text.rpartition(":")
    if not port.isascii() or not port.isdigit():
        raise ValueError("use [ADDR:]PORT with PORT a number")
    number = int(port)
    if not 0 < number < 65536:
        raise ValueError(f"port {number} out of range 1 to 65535")
    return address.strip("[]") or DEFAULT_ADDRESS, number


def is_loopback(address: str) -> bool:
    """Return True when `address` only listens on this machine."""
    import ipaddress

    if address == "localhost":
        return True
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False  # a host name: it may resolve to anything
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped.is_loopback  # ::ffff:127.0.0.1
    return parsed.is_loopback


class SyscallMetrics:
    """A collector answering each scrape from the newest reading and snapshot."""

    def __init__(self, names: SyscallNames, top_groups: int = TOP_GROUPS) -> None:
        self.names = names
        self.top_groups = top_groups
        self._lock = threading.Lock()
        self._reading: RawReading | None = None
        self._snapshot: Snapshot | None = None
        self._anomalies = 0
        self._registry = CollectorRegistry(auto_describe=False)
        self._registry.register(self)
        self._exposition = b""
        self._updated = time.monotonic()

    def update(self, reading: RawReading, snapshot: Snapshot | None) -> None:
        """Take the newest interval (called by the collector) and render it once for scrapes."""
        with self._lock:
            self._reading = reading
            if snapshot is not None:
                self._snapshot = snapshot
                self._anomalies += len(snapshot.anomalies)
        exposition = generate_latest(self._registry)
        with self._lock:
            self._exposition = exposition
            self._updated = time.monotonic()

    def exposition(self) -> bytes:
        """Return the text format of the newest interval, rendered when it arrived."""
        with self._lock:
            return self._exposition

    def healthy(self) -> bool:
        """Return True while the collector keeps reading."""
        with self._lock:
            return time.monotonic() - self._updated < HEALTHY_WITHIN_S

    def collect(self) -> Iterator[Metric]:
        """Yield every metric family (called by prometheus_client per scrape)."""
        with self._lock:
            reading, snapshot, anomalies = self._reading, self._snapshot, self._anomalies
        if reading is None:
            return
        calls = CounterMetricFamily(
            "syscalltop_syscalls", "System calls completed, by syscall.", labels=["syscall"]
        )
        errors = CounterMetricFamily(
            "syscalltop_syscall_errors",
            "System calls that failed, by syscall and errno.",
            labels=["syscall", "errno"],
        )
        latency = HistogramMetricFamily(
            "syscalltop_syscall_latency_seconds",
            "Time between sys_enter and sys_exit, log2 buckets.",
            labels=["syscall"],
        )
        for slot, counters in sorted(reading.syscalls.items()):
            if not counters.count:
                continue
            label = self.names.decode(slot).label
            calls.add_metric([label], counters.count)
            cumulative = 0
            buckets: list[tuple[str, float]] = []
            for bucket, count in enumerate(counters.latency_hist):
                cumulative += count
                upper = bucket_bounds_ns(bucket)[1] / 1e9
                if bucket == len(counters.latency_hist) - 1:
                    break  # the last log2 bucket is open-ended: it is +Inf
                buckets.append((repr(upper), cumulative))
            buckets.append(("+Inf", counters.timed))
            latency.add_metric([label], buckets, sum_value=counters.latency_sum_ns / 1e9)
        for (slot, value), count in sorted(reading.errnos.items()):
            errors.add_metric([self.names.decode(slot).label, errno_name(value)], count)
        yield calls
        yield errors
        yield latency
        # Captures: counts only, by syscall; the paths and addresses never become labels.
        sent = CounterMetricFamily(
            "syscalltop_captured_calls",
            "Calls captured with their arguments (failed, or slow / first of their process).",
            labels=["syscall", "reason"],
        )
        suppressed = CounterMetricFamily(
            "syscalltop_capture_suppressed",
            "Capture candidates the per-CPU budget did not send (counted, not explained).",
            labels=["syscall", "reason"],
        )
        for slot, counts in sorted(reading.captures.items()):
            label = self.names.decode(slot).label
            sent.add_metric([label, "failed"], counts.failed_sent)
            sent.add_metric([label, "other"], counts.other_sent)
            suppressed.add_metric([label, "failed"], counts.failed_suppressed)
            suppressed.add_metric([label, "other"], counts.other_suppressed)
        yield sent
        yield suppressed
        lost = CounterMetricFamily("syscalltop_lost_samples", "Sampled calls lost (perf buffer).")
        lost.add_metric([], reading.loss.lost_samples)
        yield lost
        dropped = CounterMetricFamily(
            "syscalltop_dropped", "Per-process or errno entries that did not fit.", labels=["map"]
        )
        dropped.add_metric(["process"], reading.loss.proc_map_full)
        dropped.add_metric(["errno"], reading.loss.errno_map_full)
        yield dropped
        found = CounterMetricFamily("syscalltop_anomalies", "Anomalies flagged since start.")
        found.add_metric([], anomalies)
        yield found
        inflight = GaugeMetricFamily(
            "syscalltop_inflight_threads", "Threads inside a syscall at the last interval."
        )
        inflight.add_metric([], len(reading.inflight))
        yield inflight
        if snapshot is not None:
            yield from self._process_metrics(snapshot)
            yield from self._group_metrics(snapshot)

    def _group_metrics(self, snapshot: Snapshot) -> Iterator[Metric]:
        """Per container/service rates: the top K groups by name, the rest as "other"."""
        rate = GaugeMetricFamily(
            "syscalltop_group_syscall_rate",
            f"Calls per second over the last interval, by container or unit (top "
            f'{self.top_groups}, the rest as group="other").',
            labels=["group", "kind"],
        )
        failing = GaugeMetricFamily(
            "syscalltop_group_error_rate",
            "Failed calls per second over the last interval, by container or unit.",
            labels=["group", "kind"],
        )
        top, rest = snapshot.groups[: self.top_groups], snapshot.groups[self.top_groups :]
        for row in top:
            rate.add_metric([row.group.label, row.group.kind], row.rate)
            failing.add_metric([row.group.label, row.group.kind], row.error_rate)
        if rest:
            rate.add_metric(["other", "other"], sum(row.rate for row in rest))
            failing.add_metric(["other", "other"], sum(row.error_rate for row in rest))
        yield rate
        yield failing

    def _process_metrics(self, snapshot: Snapshot) -> Iterator[Metric]:
        rate = GaugeMetricFamily(
            "syscalltop_process_syscall_rate",
            f"Calls per second over the last interval, top {TOP_PROCESSES} processes only.",
            labels=["pid", "comm", "syscall"],
        )
        failing = GaugeMetricFamily(
            "syscalltop_process_error_rate",
            f"Failed calls per second over the last interval, top {TOP_PROCESSES} processes.",
            labels=["pid", "comm"],
        )
        for process in snapshot.processes[:TOP_PROCESSES]:
            for call in process.syscalls:
                rate.add_metric([str(process.pid), process.comm, call.label], call.rate)
            failing.add_metric([str(process.pid), process.comm], process.error_rate)
        yield rate
        yield failing


HEALTHY_WITHIN_S = 60.0  # a collector silent for longer than this is stuck


class _Server(ThreadingHTTPServer):
    # A fleet's scrapers, a load balancer's probes and a curl loop can arrive together: the
    # default backlog of 5 made a third of 200 concurrent scrapes time out.
    request_queue_size = 1024
    daemon_threads = True
    metrics: SyscallMetrics


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def _answer(self, send_body: bool) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            status, kind, body = 200, CONTENT_TYPE_LATEST, self.server.metrics.exposition()
        elif path == "/healthz":
            healthy = self.server.metrics.healthy()
            status, kind = (200 if healthy else 503), "text/plain; charset=utf-8"
            body = b"ok\n" if healthy else b"collector has not read for a minute\n"
        else:
            status, kind, body = 404, "text/plain; charset=utf-8", b"see /metrics or /healthz\n"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Say nothing: stderr belongs to the dashboard or to the headless output."""


def serve(metrics: SyscallMetrics, listen: tuple[str, int]) -> Any:
    """Serve /metrics and /healthz on (address, port) in a daemon thread; return the server."""
    address, port = listen
    server_class = _Server6 if ":" in address else _Server
    server = server_class((address, port), _Handler)
    server.metrics = metrics
    thread = threading.Thread(target=server.serve_forever, name="metrics", daemon=True)
    thread.start()
    return server
