"""Every key of the dashboard, once: the help screen, README and tests read this table."""

from __future__ import annotations

KEYS: tuple[tuple[str, str], ...] = (
    ("q", "quit (in a sub-view: back one level; the baselines and logs live on)"),
    ("? / F1", "this help"),
    ("↑ ↓ j k PgUp PgDn", "move the cursor"),
    ("Tab / Shift+Tab", "next / previous pane"),
    ("Enter", "drill down: syscall → its callers, process → its syscalls"),
    ("Esc / Backspace", "back one level (in the / filter: clear it)"),
    ("/", "filter the rows of any view as you type (names, comms, pids, paths, containers)"),
    ("s / > / <", "sort by next / next / previous column (or click a header)"),
    ("r", "reverse the sort (a new sort shows the top rows)"),
    ("F", "follow the selected row as rows re-sort (default: the cursor keeps its place)"),
    ("x", "failures only: show only syscalls and processes with errors"),
    ("p", "pause the screen (collection continues)"),
    ("+ / -", "longer / shorter interval"),
    ("i", "in flight: threads inside a syscall now, longest first"),
    ("a", "anomaly log (rows marked ! are above their baseline)"),
    ("e", "errors by errno → syscall → failing target → process (Enter: that errno's targets)"),
    ("c", "containers, pods, services and sessions (Enter: their processes)"),
    ("K / F9", "in a process view: send it a signal (choose, then y to confirm)"),
    ("o", "in a process view: its open files"),
    ("y", "in a process view: copy `strace -f -p PID -e trace=NAME` for the selected syscall"),
    ("P", "in a process or group view: write a seccomp profile of what it called (--snapshot-dir)"),
    ("b", "reset the anomaly baseline"),
    ("S", "save the view as JSON and SVG (--snapshot-dir, default .)"),
    ("space , . g G f", "replay only: play/pause, step back/forward, start/end, 1x/4x/16x"),
    ("t", "toggle dark / light theme"),
    ("Ctrl+P", "command palette (same actions)"),
)
