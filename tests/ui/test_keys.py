"""Every key on the help screen, driven through Pilot on the deterministic fake source."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from textual.pilot import Pilot

from tests.ui.scenes import FACTS, running, scene_app
from tui.app import SyscallTopApp, make_app
from tui.config import Config
from tui.errors import UsageError
from tui.model.snapshot import kernel_identity
from tui.model.view import view_note
from tui.screens.dashboard import DashboardScreen
from tui.screens.drilldown import ProcessScreen, SyscallScreen
from tui.screens.help import HelpScreen
from tui.session import BackgroundStart, Session
from tui.sources.fake_source import FakeCall, FakeProcess, FakeSource, default_scenario
from tui.widgets.tables import ProcessRatesTable, TopSyscallsTable


async def wait_for(pilot: Pilot[int], done: Callable[[], bool], limit_s: float = 30.0) -> None:
    """Let the app run until done() holds; the limit only ends a hung test, it times nothing."""
    deadline = time.monotonic() + limit_s
    while not done() and time.monotonic() < deadline:
        await pilot.pause(0.05)


def syscalls(app: SyscallTopApp) -> TopSyscallsTable:
    return app.screen.query_one("#syscalls", TopSyscallsTable)


def processes(app: SyscallTopApp) -> ProcessRatesTable:
    return app.screen.query_one("#processes", ProcessRatesTable)


def names_shown(app: SyscallTopApp) -> list[str]:
    table = syscalls(app)
    return [table._rows[key].label for key in table._order]


async def test_q_quits() -> None:
    app = scene_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.advance(2)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0
    assert not app.is_running


async def test_help_opens_with_question_mark_and_f1_and_closes_with_escape() -> None:
    app = scene_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.advance(2)
        for key in ("question_mark", "f1"):
            await pilot.press(key)
            assert isinstance(app.screen, HelpScreen)
            # The dashboard behind the help keeps updating.
            app.advance(1)
            await pilot.pause()
            dashboard = app.screen_stack[-2]
            status = dashboard.query_one("#status")
            assert f"{app.shown_snapshot.totals.rate / 1000:.1f}k calls/s" in status.plain
            await pilot.press("escape")
            assert isinstance(app.screen, DashboardScreen)


async def test_cursor_keys_move_and_cursor_stays_on_the_same_syscall() -> None:
    async with running((120, 40), 3) as (app, pilot):
        assert syscalls(app).selected_row.name == "epoll_wait"
        await pilot.press("j", "down")
        assert syscalls(app).selected_row.name == "write"
        await pilot.press("k")
        assert syscalls(app).selected_row.name == "read"
        await pilot.press("pagedown")
        assert syscalls(app).cursor_row > 2
        await pilot.press("end")
        assert syscalls(app).cursor_row == syscalls(app).row_count - 1
        await pilot.press("home")
        assert syscalls(app).cursor_row == 0
        await pilot.press("pageup", "down", "down", "down", "down")
        await pilot.press("F")  # follow mode (htop's F): the cursor follows its syscall
        chosen = syscalls(app).selected_row.name
        app.advance(5)  # rates wobble and rows re-sort
        await pilot.pause()
        assert syscalls(app).selected_row.name == chosen


async def test_a_row_moved_to_stays_chosen_while_rows_re_sort_and_home_follows_the_top() -> None:
    """On a busy machine `j Enter` opened whatever had slid under the cursor in between."""
    async with running((120, 40), 3) as (app, pilot):
        await pilot.press("down")
        chosen = syscalls(app).selected_row.name
        rows_before = [row.name for row in syscalls(app).rows_in_order()]
        app.advance(6)  # rates wobble and rows re-sort: the second row becomes the first
        await pilot.pause()
        rows_after = [row.name for row in syscalls(app).rows_in_order()]
        assert rows_after.index(chosen) != rows_before.index(chosen)  # it did move
        assert syscalls(app).selected_row.name == chosen
        await pilot.press("home")
        app.advance(5)
        await pilot.pause()
        assert syscalls(app).cursor_row == 0  # back on the top row, whichever it is now


async def test_tab_moves_between_panes() -> None:
    app = scene_app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.advance(2)
        assert app.focused is syscalls(app)
        await pilot.press("tab")
        assert app.focused is processes(app)
        await pilot.press("tab")
        assert app.focused.id == "detail"
        await pilot.press("shift+tab")
        assert app.focused is processes(app)


async def test_enter_on_syscall_shows_its_callers_and_escape_returns() -> None:
    async with running((120, 40), 3) as (app, pilot):
        await pilot.press("down", "enter")
        assert isinstance(app.screen, SyscallScreen)
        assert app.names.decode(app.screen.slot).name == "read"
        callers = app.screen.query_one("#callers")
        assert [row.process.comm for row in callers._rows.values()] == ["nginx"]
        app.advance(1)  # the drill-down follows live data
        await pilot.pause()
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)
        await pilot.press("enter")
        assert isinstance(app.screen, SyscallScreen)
        await pilot.press("backspace")
        assert isinstance(app.screen, DashboardScreen)


async def test_enter_on_process_shows_its_syscalls() -> None:
    async with running((120, 40), 3) as (app, pilot):
        await pilot.press("tab", "down", "enter")
        assert isinstance(app.screen, ProcessScreen)
        assert app.screen.pid == 1337
        table = app.screen.query_one("#process-syscalls")
        assert {row.name for row in table._rows.values()} == {
            "pread64",
            "pwrite64",
            "fdatasync",
            "futex",
        }
        # From a process's syscall straight to that syscall's callers.
        await pilot.press("enter")
        assert isinstance(app.screen, SyscallScreen)
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, DashboardScreen)


async def test_slash_filters_as_you_type_and_escape_clears() -> None:
    async with running((80, 24), 3) as (app, pilot):
        await pilot.press("slash", "o", "p", "e", "n")
        assert names_shown(app) == ["openat"]
        assert [row.comm for row in processes(app)._rows.values()] == ["nginx"]
        await pilot.press("enter")  # keep the filter, back to the table
        assert app.focused is syscalls(app)
        app.advance(1)
        await pilot.pause()
        assert names_shown(app) == ["openat"]
        await pilot.press("slash", "escape")
        assert len(names_shown(app)) > 5
        # comm filter: the matching process, and the syscalls it makes.
        await pilot.press("slash", *"postgres")
        assert [row.comm for row in processes(app)._rows.values()] == ["postgres"]
        assert set(names_shown(app)) == {"pread64", "pwrite64", "fdatasync", "futex"}


async def test_sort_keys_and_reverse() -> None:
    async with running((120, 40), 3) as (app, pilot):
        table = syscalls(app)
        assert table.sort_key == "rate"
        await pilot.press("s")
        assert table.sort_key == "errors"
        assert names_shown(app)[0] == "futex"  # 200 errors/s
        await pilot.press("greater_than_sign")
        assert table.sort_key == "errno"
        await pilot.press("less_than_sign", "less_than_sign", "less_than_sign")
        assert table.sort_key == "nr"
        assert names_shown(app)[0] == "newfstatat"  # nr 262, the highest in the scenario
        await pilot.press("r")
        assert not table.sort_descending
        assert names_shown(app)[:2] == ["invalid", "read"]  # out-of-table ids sort as -1
        await pilot.press("less_than_sign")
        assert table.sort_key == "name"


async def test_header_click_sorts() -> None:
    async with running((120, 40), 3) as (app, pilot):
        table = syscalls(app)
        # The P99 header starts after SYSCALL, NR, RATE/s, ERR/s, TOP ERRNO, AVG (+2 each).
        x = sum(width + 2 for width in table._widths[:6]) + 2
        await pilot.click("#syscalls", offset=(x, 1))
        await pilot.pause()
        assert table.sort_key == "p99"
        assert names_shown(app)[0] == "fdatasync"  # the slowest in the scenario


async def test_x_shows_failures_only() -> None:
    async with running((120, 40), 3) as (app, pilot):
        await pilot.press("x")
        assert set(names_shown(app)) == {
            "read",
            "openat",
            "futex",
            "newfstatat",
            "invalid",
            "ptrace",
        }
        assert "failures only" in view_note(app.view)
        await pilot.press("x")
        assert len(names_shown(app)) > 6


async def test_p_pauses_the_screen_but_not_collection() -> None:
    async with running((120, 40), 3) as (app, pilot):
        await pilot.press("p")
        frozen = app.shown_snapshot
        app.advance(2)
        await pilot.pause()
        assert app.shown_snapshot is frozen
        assert app.snapshot is not frozen  # still collecting
        status = app.screen.query_one("#status")
        assert "PAUSED" in status.plain
        await pilot.press("p")
        assert app.shown_snapshot is app.snapshot
        assert "PAUSED" not in status.plain


async def test_plus_and_minus_change_the_interval() -> None:
    app = scene_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("plus")
        assert app.interval_s == 2.0
        await pilot.press("minus", "minus")
        assert app.interval_s == 0.5
        status = app.screen.query_one("#status")
        assert "every 0.5s" in status.plain


async def test_t_toggles_theme() -> None:
    app = scene_app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.theme == "textual-dark"
        await pilot.press("t")
        assert app.theme == "textual-light"


async def test_command_palette_offers_actions_and_no_file_writing_screenshot() -> None:
    app = scene_app()
    async with app.run_test(size=(80, 24)):
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert {"Pause / resume", "Failures only", "Help", "Quit"} <= set(titles)
        assert "Screenshot" not in titles


async def test_hostile_comm_is_shown_literally() -> None:
    async with running((120, 40), 4) as (app, _pilot):
        comms = [row.comm for row in processes(app).rows_in_order()]
        assert "[evil]\\x1b[31m" in comms
        svg = app.export_screenshot()
        assert "\x1b" not in svg


async def test_a_process_that_exited_shows_dimmed_once_then_goes() -> None:
    once = FakeProcess(6060, "cron-once", 0, (FakeCall(59, 5),), exits_at_tick=3)
    source = FakeSource(scenario=(*default_scenario(), once))
    app = make_app(Config(), source, facts=FACTS, start_collector=False)
    async with app.run_test(size=(120, 40)) as pilot:
        app.advance(3)
        await pilot.pause()
        assert processes(app)._cells["6060"][0] == ("6060", "")
        app.advance(1)  # the interval it exited in: its last row, PID dimmed
        await pilot.pause()
        assert processes(app)._cells["6060"][0] == ("6060", "dim")
        last = app.shown_snapshot
        assert last is not None and last.exited_pids == {6060}
        execve_total = last.syscall(59).total  # type: ignore[union-attr]
        assert execve_total > 0
        app.advance(1)
        await pilot.pause()
        assert "6060" not in processes(app)._rows
        # Global totals never go down when a process leaves.
        execve = app.shown_snapshot.syscall(59)
        assert execve is not None and (execve.count, execve.total) == (0, execve_total)


async def test_tiny_terminals_do_not_crash() -> None:
    for size in ((40, 12), (20, 5), (80, 24)):
        async with running(size, 3) as (_app, pilot):
            await pilot.press("tab", "enter", "escape", "question_mark", "escape")
            await pilot.resize_terminal(30, 8)
            await pilot.pause()
            await pilot.resize_terminal(160, 48)
            await pilot.pause()


async def test_i_shows_threads_in_flight_longest_first() -> None:
    from tui.screens.views import InflightScreen

    async with running((100, 30), 9) as (app, pilot):
        await pilot.press("i")
        assert isinstance(app.screen, InflightScreen)
        rows = app.screen.query_one("#inflight").rows_in_order()
        assert [(r.tid, r.name, r.lower_bound) for r in rows] == [
            (2025, "read", True),
            (1340, "fdatasync", False),
        ]
        assert rows[1].elapsed_ns == 6_000_000_000  # tick 9 - tick 3, one second each
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)


async def test_anomalies_are_marked_logged_and_reset_with_b() -> None:
    from tui.screens.views import AnomalyScreen

    async with running((120, 40), 7) as (app, pilot):
        # Steady scenario, warm-up over: only the first-sight ptrace of the hostile-named
        # process (it starts at tick 2) was flagged, baseline or not.
        assert [(e.anomaly.syscall, e.anomaly.pid) for e in app.anomaly_log] == [("ptrace", 5151)]
        app.advance(2)  # tick 8: nginx's read jumps x40, postgres starts calling ptrace
        await pilot.pause()
        described = [entry.anomaly.describe() for entry in app.anomaly_log]
        assert "first ptrace by postgres[1337] since baseline" in described
        assert any(d.startswith("rate read by nginx[4242]") for d in described)
        ptrace = next(e.anomaly for e in app.anomaly_log if e.anomaly.syscall == "ptrace")
        assert ptrace.severity == "high"
        # Flagged rows start with "!" (readable without colour).
        read_row = next(r for r in syscalls(app).rows_in_order() if r.name == "read")
        assert syscalls(app)._cells[str(read_row.slot)][0][0] == "!read"
        assert processes(app)._cells["4242"][1][0] == "!nginx"
        assert "incidents" in app.screen.query_one("#status").plain
        await pilot.press("a")
        assert isinstance(app.screen, AnomalyScreen)
        incidents = app.screen.query_one("#anomalies").rows_in_order()
        assert len(incidents) == len(app.shown_snapshot.incidents) >= 3
        assert incidents[0].active  # active episodes first
        read = next(i for i in incidents if i.syscall == "read" and i.kind == "rate")
        assert read.who == "nginx[4242]" and read.peak >= read.baseline * 5
        await pilot.press("b")
        assert not app.anomaly_log
        app.advance(1)
        assert app.stream.detector.warming_up


async def test_e_shows_errors_by_errno_and_enter_opens_that_errnos_targets() -> None:
    from tui.screens.views import ErrorsScreen, TargetsScreen

    async with running((100, 30), 5) as (app, pilot):
        await pilot.press("e")
        assert isinstance(app.screen, ErrorsScreen)
        rows = app.screen.query_one("#errors").rows_in_order()
        assert (rows[0].errno, rows[0].syscall.name, rows[0].top_caller) == (
            "ETIMEDOUT",
            "futex",
            "postgres[1337]",
        )
        assert {(r.errno, r.syscall.name) for r in rows} >= {
            ("ENOENT", "openat"),
            ("EAGAIN", "read"),
        }
        openat = next(r for r in rows if r.syscall.name == "openat")
        assert openat.top_target in ("/etc/nginx/conf.d/upstream.conf", "/var/www/html/favicon.ico")
        table = app.screen.query_one("#errors")
        assert table.select_key(f"ENOENT/{openat.syscall.slot}")
        await pilot.press("enter")
        assert isinstance(app.screen, TargetsScreen)
        assert (app.screen.errno, app.screen.slot) == ("ENOENT", 257)  # the chosen errno only
        targets = app.screen.query_one("#targets").rows_in_order()
        assert {t.target for t in targets} == {
            "/etc/nginx/conf.d/upstream.conf",
            "/var/www/html/favicon.ico",
        }
        assert all((t.pid, t.comm, t.errno) == (4242, "nginx", "ENOENT") for t in targets)
        note = str(app.screen.query_one("#view-note").render())
        assert "captured 2 of 120 failures" in note
        call = str(app.screen.query_one("#target-call").render())
        assert 'openat(AT_FDCWD, "/' in call and "O_RDONLY|O_CLOEXEC" in call
        await pilot.press("enter")
        assert isinstance(app.screen, ProcessScreen) and app.screen.pid == 4242


def test_batch_json_carries_anomalies_and_inflight() -> None:
    from tui.export.batch import snapshot_json
    from tui.model.names import SyscallNames
    from tui.model.snapshot import SnapshotStream
    from tui.sources.fake_source import FakeSource

    source, stream = FakeSource(), SnapshotStream(SyscallNames("x86_64"))
    lines = [stream.push(source.read()) for _ in range(10)]
    data = snapshot_json(lines[-2])  # tick 8
    kinds = {(a["kind"], a["syscall"], a["pid"]) for a in data["anomalies"]}
    assert ("novel", "ptrace", 1337) in kinds
    assert ("rate", "read", 4242) in kinds
    assert {i["syscall"] for i in data["inflight"]} == {"read", "fdatasync"}
    assert set(data["inflight"][0]) == {
        "pid",
        "tid",
        "comm",
        "syscall",
        "elapsed_ns",
        "lower_bound",
    }


async def test_replay_time_bar_plays_steps_jumps_and_changes_speed() -> None:
    from tests.ui.scenes import RECORDINGS
    from tui.app import make_app
    from tui.config import Config
    from tui.sources.recording import ReplaySource, load_recording

    replay = ReplaySource(load_recording(RECORDINGS / "demo.jsonl"))
    app = make_app(Config(), replay, describe=replay.describe)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert app.replay is not None and app.replay.last == 8
        bar = app.screen.query_one("#timebar")
        assert "REPLAY ▶ 1x" in str(bar.render())
        await pilot.press("space")
        assert not app.replay.playing
        await pilot.press("G")
        assert app.replay.position == 8
        await pilot.press("comma", "comma")
        assert app.replay.position == 6
        assert app.shown_snapshot is app.replay.at(6)
        await pilot.press("g", "full_stop")
        assert app.replay.position == 2
        await pilot.press("f")
        assert app.replay.speed == 4.0
        await pilot.press("f")
        assert app.replay.speed == 16.0
        await pilot.press("space")
        # At 16x the replay runs on to its end and stops there (however busy the machine is).
        await wait_for(pilot, lambda: not app.replay.playing)
        assert app.replay.position == 8
        names = {row.comm for row in processes(app).rows_in_order()}
        assert names  # the last interval is shown
        # While typing a filter, space is a space, not play/pause.
        playing = app.replay.playing
        await pilot.press("slash", "a", "space", "b")
        assert app.view.filter_text == "a b"
        assert app.replay.playing == playing


async def test_replay_keys_do_nothing_live() -> None:
    app = scene_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.advance(3)
        await pilot.press("space", "comma", "G")
        assert app.replay is None
        assert not app.screen.query_one("#timebar").display


async def test_capital_s_saves_the_view_safely(tmp_path) -> None:
    import json
    import os
    from dataclasses import replace

    app = scene_app()
    app.config = replace(app.config, snapshot_dir=str(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        app.advance(3)
        await pilot.pause()
        await pilot.press("S")
        await pilot.pause()
        saved = sorted(p.name for p in tmp_path.iterdir())
        assert [name.rsplit(".", 1)[1] for name in saved] == ["json", "svg"]
        data = json.loads((tmp_path / saved[0]).read_text())
        assert data["syscalls"][0]["name"] == "epoll_wait"
        assert "syscalltop" in (tmp_path / saved[1]).read_text()
        assert os.stat(tmp_path / saved[0]).st_mode & 0o777 == 0o600
        first = {p: p.read_bytes() for p in tmp_path.iterdir()}
        await pilot.press("S")  # same interval (paused, say): a second pair, never overwritten
        await pilot.pause()
        again = sorted(p.name for p in tmp_path.iterdir())
        stem = saved[0].rsplit(".", 1)[0]
        assert again == sorted([*saved, f"{stem}-2.json", f"{stem}-2.svg"])
        assert all(path.read_bytes() == data for path, data in first.items())


async def test_collector_failure_exits_non_zero_with_a_message() -> None:
    from tui.app import make_app
    from tui.config import Config
    from tui.sources.fake_source import FakeSource

    class BrokenSource(FakeSource):
        def read(self):  # type: ignore[no-untyped-def]
            if self.tick >= 2:
                raise RuntimeError("map read failed")
            return super().read()

    app = make_app(Config(interval_s=0.1), BrokenSource())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: not app.is_running)
    assert app.return_code == 1


class SlowStartSource(FakeSource):
    """A fake source whose start() waits for `go`, then fails with `error` if one is set."""

    def __init__(self, error: BaseException | None = None) -> None:
        super().__init__()
        self.go = threading.Event()
        self.error = error

    def start(self) -> None:
        self.go.wait(timeout=10)
        if self.error is not None:
            raise self.error


def started_in_background(source: SlowStartSource) -> SyscallTopApp:
    """The dashboard over a session whose source is still compiling, as the CLI opens it."""
    config = Config(interval_s=0.1)
    starting = BackgroundStart(source)
    starting.start()
    app = make_app(config, source, facts=FACTS)
    app.session = Session(config, app.names, source, kernel_identity, starting=starting)
    return app


async def test_the_dashboard_is_drawn_while_the_source_starts_and_collects_once_it_has() -> None:
    source = SlowStartSource()
    app = started_in_background(source)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.3)
        assert isinstance(app.screen, DashboardScreen)  # drawn, keys work, nothing read yet
        assert app.collector is None and app.snapshot is None and source.tick == 0
        assert "Top syscalls" in app.screen.query_one("#syscalls").pane_title
        source.go.set()
        await wait_for(pilot, lambda: app.snapshot is not None)
        assert app.collector is not None
        assert app.snapshot is not None and app.snapshot.totals.total > 0
        assert app.facts == FACTS  # facts handed in are kept, not replaced at the start


async def test_every_key_works_before_the_first_reading_while_the_source_starts() -> None:
    """The first screen is up for about half a second before BPF is attached: keys pressed
    then open their views (with nothing in them yet) and the data comes in afterwards."""
    source = SlowStartSource()
    app = started_in_background(source)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.1)
        for key in ("question_mark", "escape", "e", "i", "a", "c", "enter", "escape", "escape"):
            await pilot.press(key)
        await pilot.press("x", "p", "plus", "minus", "t", "b", "s", "tab", "enter", "escape")
        await pilot.press("slash", *"open", "enter", "escape", "G", "space")
        assert app.is_running and app.snapshot is None and source.tick == 0
        assert app.view.paused and app.view.interval_s != 0.1  # p once; + and - changed it
        await pilot.press("p")
        source.go.set()
        await wait_for(pilot, lambda: app.snapshot is not None)
        assert app.snapshot is not None and isinstance(app.screen, DashboardScreen)
        # The interval chosen before the start is the collector's.
        assert app.collector is not None and app.collector.interval_s == app.view.interval_s


@pytest.mark.parametrize(
    ("failure", "code"),
    [
        (UsageError("refusing kernel headers from BCC_KERNEL_SOURCE /x: writable", 2), 2),
        (RuntimeError("a bug in the start"), 1),  # raised again after the terminal is back
    ],
)
async def test_a_source_that_fails_to_start_ends_the_dashboard_with_its_exit_code(
    failure: BaseException, code: int
) -> None:
    source = SlowStartSource(failure)
    app = started_in_background(source)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        assert app.is_running
        source.go.set()
        await wait_for(pilot, lambda: not app.is_running)
    assert app.return_code == code
    assert app.start_error is failure  # the CLI prints it once the terminal is restored
    assert app.collector is None and source.tick == 0


async def test_an_exception_in_the_ui_exits_non_zero() -> None:
    app = scene_app()

    def broken() -> None:
        raise RuntimeError("widget bug")

    app.action_toggle_failures = broken  # type: ignore[method-assign]
    # Textual restores the terminal, then reports the error (Pilot re-raises it here).
    with pytest.raises(RuntimeError, match="widget bug"):
        async with app.run_test(size=(80, 24)) as pilot:
            app.advance(2)
            await pilot.press("x")
            await pilot.pause()
    assert app.return_code == 1


async def test_lost_samples_are_shown_without_any_load() -> None:
    """FakeSource loses a sample every fifth interval: the UI path, with no real overflow."""
    async with running((80, 24), 6) as (app, _pilot):
        assert "lost 1" in app.screen.query_one("#status").plain


async def test_c_groups_processes_by_container_and_service_and_enter_opens_one() -> None:
    from tui.screens.views import GroupScreen, GroupsScreen

    async with running((120, 36), 4) as (app, pilot):
        await pilot.press("c")
        assert isinstance(app.screen, GroupsScreen)
        rows = app.screen.query_one("#groups").rows_in_order()
        labels = [row.group.label for row in rows]
        assert labels[0] == "docker:4f2c1d9e8b7a"  # nginx, the busiest
        assert "service:postgresql@15-main.service" in labels
        assert any(label.startswith("kubernetes:pod 8a1b2c3d/") for label in labels)
        nginx = rows[0]
        assert nginx.pids == (4242,) and nginx.top_errno == "ENOENT"
        assert nginx.count == app.shown_snapshot.process(4242).count  # exact per group
        await pilot.press("enter")
        assert isinstance(app.screen, GroupScreen)
        shown = app.screen.query_one("#group-processes").rows_in_order()
        assert [row.pid for row in shown] == [4242]
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, DashboardScreen)
        await pilot.press("slash", *"kubepods", "enter")
        assert [row.pid for row in processes(app).rows_in_order()] == [3030]
