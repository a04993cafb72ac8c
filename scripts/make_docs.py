"""Build syscalltop(1) and the bash/zsh completions from the argument parser itself.

    python scripts/make_docs.py --man FILE --bash FILE --zsh FILE

The man page comes from argparse-manpage, the completions from shtab: both read the same
parser the command uses, so neither can drift from the flags.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from tui import __version__
from tui.errors import EXIT_BPF_FAILED, EXIT_FAILURE, EXIT_NO_PRIVILEGE, EXIT_OK, EXIT_USAGE
from tui.flags import build_parser
from tui.keys import KEYS

EXAMPLES = [
    ("sudo syscalltop", "the dashboard: hot, failing, slow and stuck calls, system-wide"),
    ("sudo syscalltop -p 1234 -x", "one process, failed calls only"),
    ("sudo syscalltop --json -i 5 -n 12", "a minute of JSON lines, one per 5 s"),
    ("sudo syscalltop --quiet --prometheus 127.0.0.1:9545", "headless Prometheus exporter"),
    ("sudo syscalltop --record run.jsonl", "the dashboard, every reading kept"),
    ("syscalltop --replay run.jsonl", "look at it later, anywhere (no root needed)"),
    ("sudo syscalltop --doctor", "what this machine lacks, and the command that fixes it"),
]


def roff(text: str) -> str:
    """Escape text for roff: backslashes, and a leading dot or quote."""
    text = text.replace("\\", "\\e")
    return "\\&" + text if text[:1] in (".", "'") else text


def man_page() -> str:
    """Return syscalltop(1) in roff."""
    from argparse_manpage.manpage import Manpage

    parser = build_parser()
    page = Manpage(parser)
    page.source = f"syscalltop {__version__}"
    page.manual = "User Commands"
    page.description = "live terminal dashboard of Linux system calls through eBPF"
    # Reproducible: the date of the parser's source, not of the build.
    stamp = int(os.environ.get("SOURCE_DATE_EPOCH", Path(__file__).stat().st_mtime))
    page.date = time.strftime("%Y-%m-%d", time.gmtime(stamp))
    keys = "".join(f".TP\n.B {roff(key)}\n{roff(action)}\n" for key, action in KEYS)
    page.add_section("KEYS", ">", keys.strip())
    examples = "".join(f".TP\n.B {roff(cmd)}\n{roff(what)}\n" for cmd, what in EXAMPLES)
    page.add_section("EXAMPLES", ">", examples.strip())
    codes = [
        (EXIT_OK, "success (also when -n/-d ran out, or every -p target exited)"),
        (EXIT_FAILURE, "failure at run time (collector error, recording could not be written)"),
        (EXIT_USAGE, "bad input, missing kernel headers, untrusted header tree, wrong pid ns"),
        (EXIT_NO_PRIVILEGE, "not privileged: needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN)"),
        (EXIT_BPF_FAILED, "the BPF program did not compile, load or attach"),
        (129, "SIGHUP, or the terminal went away"),
        (130, "SIGINT"),
        (143, "SIGTERM"),
    ]
    exits = "".join(f".TP\n.B {code}\n{roff(what)}\n" for code, what in codes)
    page.add_section("EXIT STATUS", ">", exits.strip())
    files = (
        ".TP\n.B /var/cache/syscalltop/kernel-headers\n"
        "merged Debian kernel headers, made when the running kernel has none of its own"
    )
    page.add_section("FILES", ">", files)
    page.add_section("SEE ALSO", ">", "strace(1), perf-trace(1), syscount-bpfcc(8)")
    return str(page)


def main() -> int:
    """Write the files asked for."""
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--man", type=Path)
    args.add_argument("--bash", type=Path)
    args.add_argument("--zsh", type=Path)
    chosen = args.parse_args()
    if chosen.man:
        chosen.man.write_text(man_page())
    for shell, path in (("bash", chosen.bash), ("zsh", chosen.zsh)):
        if path:
            import shtab

            path.write_text(shtab.complete(build_parser(), shell=shell))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
