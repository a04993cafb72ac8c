"""End to end: the real dashboard on live BPF finds a workload started after it."""

from __future__ import annotations

import asyncio

import pytest

from tui.app import make_app
from tui.config import Config
from tui.model.names import SyscallNames
from tui.procinfo import ProcessInfo
from tui.screens.drilldown import ProcessScreen
from tui.widgets.tables import ProcessRatesTable, TopSyscallsTable

pytestmark = pytest.mark.bpf


async def test_live_dashboard_shows_a_new_workload_and_its_syscall(workload_factory) -> None:
    from tui.sources.bcc_source import BccSource

    names = SyscallNames()
    config = Config(interval_s=0.3)
    source = BccSource(config, names)
    source.start()
    try:
        app = make_app(config, source, names, ProcessInfo().describe)
        async with app.run_test(size=(120, 40)) as pilot:
            workload = workload_factory("--hot-seconds=8", name="e2e-hotloop")
            workload.process.stdin.write("go\n")
            workload.process.stdin.flush()
            await pilot.press("slash", *"e2e-hot", "enter")
            processes = app.screen.query_one("#processes", ProcessRatesTable)
            for _ in range(50):
                await asyncio.sleep(0.1)
                if any(row.pid == workload.pid for row in processes._rows.values()):
                    break
            rows = list(processes._rows.values())
            assert [row.comm for row in rows] == ["e2e-hotloop"]
            assert rows[0].top_syscall == "getppid"
            syscalls = app.screen.query_one("#syscalls", TopSyscallsTable)
            assert "getppid" in {row.name for row in syscalls._rows.values()}
            await pilot.press("tab", "enter")
            assert isinstance(app.screen, ProcessScreen)
            assert app.screen.pid == workload.pid
            mix = app.screen.query_one("#process-syscalls")
            for _ in range(20):  # filled from the next snapshot on a loaded machine
                if mix._rows:
                    break
                await asyncio.sleep(0.1)
            assert "getppid" in {row.name for row in mix._rows.values()}
            await pilot.press("escape", "q")
    finally:
        source.close()
