"""Attach one benchmark variant, print "attached", run until stdin closes, report CPU used."""

from __future__ import annotations

import json
import os
import resource
import sys
import threading
import time

EMPTY_PROGRAM = b"""
RAW_TRACEPOINT_PROBE(sys_enter) { return 0; }
RAW_TRACEPOINT_PROBE(sys_exit) { return 0; }
"""


def main() -> int:
    variant = sys.argv[1]
    started = time.monotonic()
    from tui.sources.kernel_headers import locate_headers

    os.environ["BCC_KERNEL_SOURCE"] = str(locate_headers().path)
    keep: object
    stop = threading.Event()
    if variant == "empty":
        from bcc import BPF

        keep = BPF(text=EMPTY_PROGRAM)
    elif variant in ("ours", "ours, no captures", "ours, counts tier"):
        from tui.collector import Collector
        from tui.config import Config
        from tui.model.names import SyscallNames
        from tui.model.snapshot import SnapshotStream
        from tui.procinfo import ProcessInfo
        from tui.sources.bcc_source import BccSource

        names = SyscallNames()
        config = {
            "ours": Config(),
            "ours, no captures": Config(capture_rate=0),
            "ours, counts tier": Config(level="counts", sample_every=0, capture_rate=0, slow_ms=0),
        }[variant]
        source = BccSource(config, names)
        source.start()
        stream = SnapshotStream(names, ProcessInfo().describe)
        collector = Collector(source, 1.0, stream.push, lambda error: stop.set())
        collector.start()
        keep = (source, collector)
    else:
        raise SystemExit(f"unknown variant {variant}")
    attach_s = time.monotonic() - started
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    wall_before = time.monotonic()
    print("attached", flush=True)
    sys.stdin.readline()
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    wall_s = time.monotonic() - wall_before
    cpu_s = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    print(
        json.dumps(
            {
                "attach_s": attach_s,
                "cpu_pct": 100 * cpu_s / wall_s if wall_s else 0.0,
                "max_rss_mb": cpu_after.ru_maxrss / 1024,
            }
        ),
        flush=True,
    )
    del keep
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
