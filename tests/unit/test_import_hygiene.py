"""Layering: the model imports neither textual nor bcc; only bcc_source imports bcc."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def test_model_imports_neither_textual_nor_bcc() -> None:
    code = (
        "import sys, tui.model.snapshot, tui.model.histogram, tui.model.names, "
        "tui.model.sanitize, tui.model.readings\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'bcc', 'psutil'))\n"
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert result.stdout.strip() == ""


def test_only_bcc_source_imports_bcc() -> None:
    importers = [
        path.relative_to(REPO).as_posix()
        for path in (REPO / "tui").rglob("*.py")
        if re.search(r"^\s*(from bcc|import bcc)", path.read_text(), re.MULTILINE)
    ]
    assert importers == ["tui/sources/bcc_source.py"]


def test_widgets_do_not_touch_psutil_or_bcc() -> None:
    for path in Path(REPO / "tui" / "widgets").rglob("*.py"):
        text = path.read_text()
        assert "psutil" not in text and "bcc" not in text, path


def test_a_run_without_prometheus_never_loads_prometheus_client() -> None:
    """It costs 14 MB of RSS and 60 ms of start-up: loaded only for --prometheus."""
    code = (
        "import sys, tui.cli, tui.app, tui.headless, tui.session\n"
        "print('prometheus_client' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert result.stdout.strip() == "False"
