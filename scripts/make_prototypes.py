"""Write tui/model/data/syscall_prototypes.json from the running kernel's tracefs.

    sudo mount -t tracefs tracefs /sys/kernel/tracing   # if it is not mounted
    .venv/bin/python scripts/make_prototypes.py

The table is the fallback for machines without tracefs: each syscall's argument types and
names, as the kernel's own sys_enter_* format files give them (facts, not code).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tui.model.prototypes import parse_format

TRACEFS = Path("/sys/kernel/tracing/events/syscalls")
TABLE = Path(__file__).resolve().parents[1] / "tui" / "model" / "data" / "syscall_prototypes.json"


def main() -> int:
    """Read every sys_enter_* format file and write the table."""
    if not TRACEFS.is_dir():
        print(f"make_prototypes: {TRACEFS} is missing: mount tracefs first", file=sys.stderr)
        return 2
    table = {}
    for event in sorted(TRACEFS.glob("sys_enter_*")):
        prototype = parse_format((event / "format").read_text())
        table[prototype.name] = [[arg.type, arg.name] for arg in prototype.args]
    TABLE.write_text(json.dumps(table, indent=0, sort_keys=True) + "\n")
    print(f"wrote {len(table)} prototypes to {TABLE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
