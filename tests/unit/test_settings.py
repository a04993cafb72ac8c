"""Lasting settings: a config file sets defaults, flags override them, bad ones are one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tui.errors import UsageError
from tui.settings import Settings, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "syscalltop" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_config_file_is_read_and_checked(tmp_path: Path) -> None:
    path = write(
        tmp_path, 'theme = "light"\ninterval = 2\nsort = "errors"\nhidden_columns = ["nr"]\n'
    )
    assert load_settings(path) == Settings("light", 2.0, "errors", ("nr",), None)
    assert load_settings(tmp_path / "missing.toml") == Settings()
    for bad, message in [
        ('theme = "blue"', "theme must be"),
        ("colour = 1", "unknown setting 'colour'"),
        ('sort = "bogus"', "sort must be one of"),
        ("hidden_columns = 3", "hidden_columns must be a list"),
        ("interval = [", "config.toml"),
    ]:
        with pytest.raises(UsageError, match=message):
            load_settings(write(tmp_path, bad))


def test_flags_override_the_file_and_a_bad_file_is_one_line(tmp_path: Path) -> None:
    write(tmp_path, "interval = 0.05\n")  # out of range, as -i 0.05 would be
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path)}
    run = [sys.executable, "-m", "tui", "--ebpf"]
    bad = subprocess.run(run, capture_output=True, text=True, env=env, cwd=REPO, timeout=60)
    assert (
        bad.returncode == 2
        and bad.stderr.strip() == "syscalltop: bad interval 0.05: use 0.1 to 3600 seconds"
    )
    good = subprocess.run(
        [*run, "-i", "1"], capture_output=True, text=True, env=env, cwd=REPO, timeout=60
    )
    assert good.returncode == 0, good.stderr
    write(tmp_path, 'theme = "pink"\n')
    broken = subprocess.run(run, capture_output=True, text=True, env=env, cwd=REPO, timeout=60)
    assert broken.returncode == 2 and broken.stderr.count("\n") == 1


async def test_sort_and_hidden_columns_apply_to_the_tables() -> None:
    from tests.ui.scenes import FACTS
    from tui.app import make_app
    from tui.config import Config
    from tui.sources.fake_source import FakeSource

    config = Config(sort_key="errors", hidden_columns=("nr", "user"))
    app = make_app(config, FakeSource(), facts=FACTS, start_collector=False)
    async with app.run_test(size=(120, 40)) as pilot:
        app.advance(3)
        await pilot.pause()
        syscalls = app.screen.query_one("#syscalls")
        assert syscalls.sort_key == "errors"
        assert "nr" not in [c.key for c in syscalls.columns_spec]
        assert syscalls.rows_in_order()[0].name == "futex"
        processes = app.screen.query_one("#processes")
        assert "user" not in [c.key for c in processes.columns_spec]
