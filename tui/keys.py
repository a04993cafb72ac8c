"""Every key of the dashboard, once: the help screen, the man page, README and tests read
this table. Short texts: the help fits one 80x24 page; README has the long story."""

from __future__ import annotations

SECTIONS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "views",
        (
            ("e", "errors → targets"),
            ("i", "in flight (stuck)"),
            ("a", "anomalies"),
            ("c", "containers, units"),
            ("Enter", "drill down"),
            ("Esc / Bksp", "back one level"),
            ("q", "quit (sub-view: back)"),
            ("? / F1", "this help"),
        ),
    ),
    (
        "rows",
        (
            ("↑↓ j k PgUp PgDn", "move"),
            ("Tab / S-Tab", "next / prev pane"),
            ("/", "filter (comm: pid: sys:)"),
            ("s / > / <", "sort: next / prev"),
            ("r", "reverse the sort"),
            ("F", "follow selected row"),
            ("x", "failures only"),
            ("w", "hide idle waits (i)"),
            ("C", "choose columns"),
        ),
    ),
    (
        "process",
        (
            ("K / F9", "signal (y confirms)"),
            ("o", "its open files"),
            ("y", "copy strace command"),
            ("P", "write a seccomp profile"),
        ),
    ),
    (
        "run",
        (
            ("p", "pause (still collects)"),
            ("+ / -", "interval up / down"),
            ("b", "reset baselines"),
            ("S", "save view JSON+SVG"),
            ("t", "dark / light theme"),
            ("Ctrl+P", "command palette"),
            ("space , . g G f", "replay controls"),
        ),
    ),
)

KEYS: tuple[tuple[str, str], ...] = tuple(key for _, keys in SECTIONS for key in keys)
