"""syscalltop: a live terminal dashboard of Linux system calls through eBPF."""

from __future__ import annotations

__version__ = "0.1.0"
