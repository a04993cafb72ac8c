"""The interaction model: re-sorts show the top, views switch instead of piling up, / works
everywhere, Enter drills down everywhere, q in a sub-view goes back, the time bar shows."""

from __future__ import annotations

from tests.ui.scenes import running, scene_app
from tui.app import make_app
from tui.config import Config
from tui.screens.dashboard import DashboardScreen
from tui.screens.drilldown import ProcessScreen, SyscallScreen
from tui.screens.views import AnomalyScreen, ErrorsScreen, InflightScreen


def table(app, selector: str):  # type: ignore[no-untyped-def]
    return app.screen.query_one(selector)


async def test_a_resort_shows_the_top_rows_with_the_cursor_on_the_first() -> None:
    async with running((80, 24), 3) as (app, pilot):
        syscalls = table(app, "#syscalls")
        await pilot.press("end")  # scrolled to the bottom
        assert syscalls.scroll_offset.y > 0
        await pilot.press("s", "s", "s")  # sort by ERR/s, TOP ERRNO, then AVG
        assert syscalls.sort_key == "avg"
        await pilot.press("end", "less_than_sign", "less_than_sign")  # back to ERR/s
        assert syscalls.cursor_row == 0 and syscalls.scroll_offset.y == 0
        assert syscalls.sort_key == "errors"
        assert syscalls.rows_in_order()[0].name == "futex"  # the most errors, in view
        # The unfocused processes pane keeps its top rows in view as rows re-sort.
        processes = table(app, "#processes")
        app.advance(4)
        await pilot.pause()
        assert processes.scroll_offset.y == 0


async def test_view_keys_switch_views_and_one_escape_goes_home() -> None:
    async with running((100, 30), 3) as (app, pilot):
        await pilot.press("i", "i", "a", "e")
        assert isinstance(app.screen, ErrorsScreen)
        assert [view.kind.value for view in app.view.views] == ["dashboard", "errors"]
        assert "home › errors" in table(app, "#status").plain
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)


async def test_q_in_a_sub_view_goes_back_and_quits_only_at_home() -> None:
    async with running((100, 30), 3) as (app, pilot):
        await pilot.press("e", "q")
        assert isinstance(app.screen, DashboardScreen) and app.is_running
        await pilot.press("q")
        assert not app.is_running


async def test_slash_in_a_sub_view_filters_and_its_letters_are_not_commands() -> None:
    async with running((100, 30), 3) as (app, pilot):
        await pilot.press("e", "slash", *"eacces", "enter")
        assert isinstance(app.screen, ErrorsScreen)  # "e", "a", "c" went into the filter
        assert app.view.filter_text == "eacces"
        rows = table(app, "#errors").rows_in_order()
        assert [(r.errno, r.syscall.name) for r in rows] == [("EACCES", "newfstatat")]
        await pilot.press("slash", "escape")  # Esc in the filter clears it, stays here
        assert app.view.filter_text == "" and isinstance(app.screen, ErrorsScreen)


async def test_enter_drills_down_from_in_flight_and_anomaly_rows() -> None:
    async with running((100, 30), 9) as (app, pilot):
        await pilot.press("i")
        assert isinstance(app.screen, InflightScreen)
        chosen = table(app, "#inflight").selected_row
        await pilot.press("enter")
        assert isinstance(app.screen, ProcessScreen) and app.screen.pid == chosen.pid
        await pilot.press("a")
        assert isinstance(app.screen, AnomalyScreen)
        incident = table(app, "#anomalies").selected_row
        await pilot.press("enter")
        if incident.pid is not None:
            assert isinstance(app.screen, ProcessScreen) and app.screen.pid == incident.pid
        else:
            assert isinstance(app.screen, SyscallScreen) and app.screen.slot == incident.slot


def test_ties_sort_by_number_not_as_text() -> None:
    from tui.widgets.keyed_table import _tie_order

    keys = ["20", "17", "158", "2", "name"]
    assert sorted(keys, key=_tie_order) == ["2", "17", "20", "158", "name"]


async def test_equal_rates_list_syscalls_in_numeric_order() -> None:
    from tui.sources.fake_source import FakeCall, FakeProcess, FakeSource

    same = FakeProcess(77, "ties", 0, calls=tuple(FakeCall(nr, 100) for nr in (158, 17, 20)))
    app = make_app(Config(), FakeSource(scenario=(same,)), start_collector=False)
    async with app.run_test(size=(120, 30)) as pilot:
        app.advance(2)
        await pilot.pause()
        syscalls = table(app, "#syscalls")
        syscalls.set_sort("rate", descending=False)
        await pilot.pause()
        assert [row.nr for row in syscalls.rows_in_order()] == [17, 20, 158]


async def test_replay_time_bar_is_on_screen() -> None:
    from tests.ui.scenes import RECORDINGS
    from tui.sources.recording import ReplaySource, load_recording

    replay = ReplaySource(load_recording(RECORDINGS / "demo.jsonl"))
    app = make_app(Config(), replay, describe=replay.describe)
    for size in ((120, 36), (140, 50), (80, 24)):
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            bar = app.screen.query_one("#timebar")
            assert bar.display and bar.region.height == 1
            footer = app.screen.query_one("Footer")
            assert bar.region.y < footer.region.y  # above the footer, not under it
            assert "REPLAY" in str(bar.render())
        app = make_app(Config(), ReplaySource(load_recording(RECORDINGS / "demo.jsonl")))


async def test_status_line_at_80_columns_puts_anomalies_before_what_gets_cut() -> None:
    async with running((80, 24), 9) as (app, _pilot):
        first = table(app, "#status").plain.splitlines()[0]
        assert "incidents" in first[:80]
        assert first.index("incidents") < first.index("sample")


async def test_a_signal_to_the_selected_process_is_sent_only_after_confirmation() -> None:
    import ctypes
    import subprocess
    import sys

    from tui.screens.actions import SignalScreen
    from tui.sources.fake_source import FakeCall, FakeProcess, FakeSource

    # A real child of this test, named as the fake scenario names it: only it can be hit.
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import ctypes, time\nctypes.CDLL(None).prctl(15, b'victim', 0, 0, 0)\n"
            "print('ready', flush=True)\ntime.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    assert ctypes  # the child renamed itself through prctl, as the kernel shows comms
    scenario = (FakeProcess(child.pid, "victim", 0, calls=(FakeCall(0, 50),)),)
    app = make_app(Config(), FakeSource(scenario=scenario), start_collector=False)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            app.advance(2)
            await pilot.pause()
            await pilot.press("tab", "enter")
            assert isinstance(app.screen, ProcessScreen) and app.screen.pid == child.pid
            await pilot.press("K")
            assert isinstance(app.screen, SignalScreen)
            await pilot.press("enter")  # SIGTERM is first: chosen, not sent
            await pilot.pause()
            assert child.poll() is None
            await pilot.press("y")
            await pilot.pause()
            assert child.wait(5) == -15
            assert isinstance(app.screen, ProcessScreen)
            await pilot.press("f9", "escape")  # cancelled: nothing sent, back on the process
            assert isinstance(app.screen, ProcessScreen)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(5)


async def test_open_files_and_strace_command_of_the_selected_process() -> None:
    import os
    import tempfile

    from tui.screens.actions import TextScreen
    from tui.sources.fake_source import FakeCall, FakeProcess, FakeSource

    with open(f"/proc/{os.getpid()}/comm") as comm:
        me = comm.read().strip()
    scenario = (FakeProcess(os.getpid() + 0, me, 0, calls=(FakeCall(257, 50),)),)
    app = make_app(Config(), FakeSource(scenario=scenario), start_collector=False)
    marker = tempfile.NamedTemporaryFile(prefix="syscalltop-open-files-")  # noqa: SIM115
    async with app.run_test(size=(100, 30)) as pilot:
        app.view = type(app.view)(interval_s=1.0)  # this test's own process is the subject
        app.advance(2)
        await pilot.pause()
        await pilot.press("tab", "enter", "o")
        assert isinstance(app.screen, TextScreen)
        listed = str(app.screen.query_one("#action-text").render())
        assert f"-> {marker.name}" in listed and "    0 -> " in listed
        await pilot.press("escape", "y")
        assert app._clipboard == f"strace -f -p {os.getpid()} -e trace=openat"
    marker.close()


async def test_help_fits_one_page_at_80x24() -> None:
    from tui.keys import KEYS
    from tui.screens.help import HelpScreen

    app = scene_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.advance(2)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        box = app.screen.query_one("#help-box")
        assert box.max_scroll_y == 0  # nothing below the fold
        shown = "\n".join(strip.text for strip in app.screen._compositor.render_strips())
        for key, _ in KEYS:
            assert key in shown, key


async def test_the_column_chooser_hides_a_column_in_every_table_and_shows_it_again() -> None:
    async with running((120, 36), 3) as (app, pilot):
        syscalls = table(app, "#syscalls")
        assert "share" in [column.key for column in syscalls.columns_spec]
        await pilot.press("C")
        chooser = app.screen.query_one("#columns")
        keys = [chooser.get_option_at_index(i).value for i in range(chooser.option_count)]
        assert syscalls.sort_key not in keys  # the sort column always stays
        for _ in range(keys.index("share")):
            await pilot.press("down")
        await pilot.press("space")
        await pilot.pause()
        assert "share" in app.view.hidden_columns
        await pilot.press("escape")
        await pilot.pause()
        assert "share" not in [column.key for column in table(app, "#syscalls").columns_spec]
        assert "share" in app.frame().settings[1]  # every view opened later leaves it out
        await pilot.press("escape", "C", *["down"] * keys.index("share"), "space", "escape")
        await pilot.pause()
        assert "share" in [column.key for column in table(app, "#syscalls").columns_spec]


async def test_a_wide_terminal_gives_paths_and_groups_the_room_a_narrow_one_cuts() -> None:
    shown = {}
    for size in ((80, 24), (200, 60)):
        async with running(size, 3) as (app, _pilot):
            processes = table(app, "#processes")
            rows = processes.rows_in_order()
            longest = max(
                (r for r in rows if r.group is not None), key=lambda r: len(r.group.label)
            )
            line = processes.render_line(1 + rows.index(longest)).text
            shown[size[0]] = (longest.group.label, line)
    label, narrow = shown[80]
    assert label not in narrow  # cut (or beyond the right edge) at 80 columns
    assert label in shown[200][1]  # the whole unit name at 200 columns


def screen_text(app) -> list[str]:  # type: ignore[no-untyped-def]
    """Return the screen as the terminal shows it, one string per line (scrollbars included)."""
    import io

    from rich.console import Console

    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True)
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text().splitlines()


BLOCKS = set("▁▂▃▄▅▆▇█")
SCROLLBAR_ENDS = set("▏▎▍▌▋▊▉▐")


async def test_no_block_glyph_beside_a_table_that_has_more_rows_than_fit() -> None:
    """A 1-cell scrollbar thumb is drawn with the sparkline's own glyphs (▄ at the edge looked
    like a stray trend cell): long tables say where they are in their title instead."""
    async with running((80, 24), 9) as (app, pilot):
        syscalls = table(app, "#syscalls")
        region = syscalls.region
        shown = syscalls.size.height - 1  # below the header line
        assert syscalls.row_count > shown
        for key in ("", "end", "home", "s", "s"):
            if key:
                await pilot.press(key)
            await pilot.pause()
            lines = screen_text(app)
            right_edge = {lines[y][region.right - 1] for y in range(region.y, region.bottom)}
            assert not right_edge & BLOCKS, key
        assert f"1–{shown} of {syscalls.row_count}" in str(syscalls.border_title)
        await pilot.press("end")
        last = syscalls.row_count
        assert f"{last - shown + 1}–{last} of {last}" in str(syscalls.border_title)
        # Nor a horizontal one (its thumb ends in ▋): in every view, nothing draws a scrollbar.
        for key in ("home", "e", "i", "a", "c", "escape"):
            await pilot.press(key)
            await pilot.pause()
            above_footer = "".join(screen_text(app)[:-1])
            assert not set(above_footer) & SCROLLBAR_ENDS, key


async def test_trend_shows_a_longer_history_on_a_wide_terminal() -> None:
    """6 cells at 80 columns; at 200 the trend draws every interval kept (24), newest right."""
    trends = {}
    for size in ((80, 24), (200, 60)):
        async with running(size, 30) as (app, _pilot):
            syscalls = table(app, "#syscalls")
            header = syscalls.render_line(0).text
            line = syscalls.render_line(1).text
            start = header.index("TREND")
            trends[size[0]] = line[start:].split()[0]
    assert len(trends[80]) == 6
    assert len(trends[200]) == 24
    assert set(trends[200]) <= BLOCKS


async def test_a_column_that_does_not_fit_whole_is_left_out_not_cut() -> None:
    """At 80 columns SHARE% does not fit: "SHA" over an "8" (of 89.3) read as 8%."""
    async with running((80, 24), 3) as (app, _pilot):
        for selector in ("#syscalls", "#processes"):
            pane = table(app, selector)
            assert pane.virtual_size.width > pane.size.width  # some column is beyond the edge
            header = pane.render_line(0).text.replace("▼", "").rstrip()
            assert any(header.endswith(column.label) for column in pane.columns_spec), header
            for y in range(1, pane.row_count + 1):
                line = pane.render_line(y).text
                assert len(line) == pane.size.width
                assert not line[len(header) + 2 :].strip(), line  # nothing past the last whole


async def test_a_text_column_at_the_edge_is_cut_with_an_ellipsis_so_its_start_still_tells() -> None:
    async with running((80, 24), 9) as (app, pilot):
        await pilot.press("i")
        inflight = table(app, "#inflight")
        header = inflight.render_line(0).text
        assert header.rstrip().endswith("ON")
        start = header.index(" ON") + 1
        targets = [row.target for row in inflight.rows_in_order() if len(row.target) > 20]
        assert targets, "the scene has a long fd target"
        line = inflight.render_line(
            1 + [r.target for r in inflight.rows_in_order()].index(targets[0])
        )
        shown = line.text[start:].rstrip()
        assert shown.endswith("…") and targets[0].startswith(shown[:-1])


def counts_tier_app():  # type: ignore[no-untyped-def]
    """The app as `--level counts` starts it (on the fake source, its latency ignored)."""
    from dataclasses import replace

    from tests.ui.scenes import FACTS
    from tui.sources.fake_source import FakeSource

    config = Config(level="counts", sample_every=0, capture_rate=0)
    return make_app(
        config, FakeSource(), facts=replace(FACTS, tier="counts"), start_collector=False
    )


async def test_the_counts_tier_says_so_and_its_latency_keys_explain_instead_of_showing_zeros() -> (
    None
):
    async with running((100, 30), 3, app=counts_tier_app()) as (app, pilot):
        status = table(app, "#status").plain
        assert "counts tier" in status and "sample" not in status and "lost" not in status
        syscalls = table(app, "#syscalls")
        labels = [column.label for column in syscalls.columns_spec]
        assert "AVG" not in labels and "P99" not in labels and "MAX" not in labels
        detail = str(app.screen.query_one("#detail").render())
        assert "no latency in the counts tier" in detail
        await pilot.press("i")
        assert isinstance(app.screen, InflightScreen)
        note = str(app.screen.query_one("#view-note").render())
        assert "counts tier" in note and "--level full" in note
        assert table(app, "#inflight").row_count == 0


async def test_a_p99_from_log2_buckets_is_marked_as_a_bound_and_a_fine_one_is_not() -> None:
    """Per syscall the percentiles are within 6.25%; per process they are log2 bounds
    (within x2): the process views say so with ≤ rather than look as precise."""
    async with running((120, 40), 3) as (app, pilot):
        syscalls = table(app, "#syscalls")
        p99 = next(c for c in syscalls.columns_spec if c.key == "p99")
        top = syscalls.rows_in_order()[0]
        assert top.latency.fine and not p99.render(top).startswith("≤")
        await pilot.press("tab", "enter")  # the busiest process's syscalls
        calls = table(app, "#process-syscalls")
        column = next(c for c in calls.columns_spec if c.key == "p99")
        first = calls.rows_in_order()[0]
        assert not first.latency.fine and column.render(first).startswith("≤")


async def test_a_groups_cgroup_path_too_long_for_the_pane_keeps_its_end() -> None:
    """At 80 columns the drill-down showed `cgroup` alone: the path wrapped out of the header.
    The end of the path names the container, so that is the part kept."""
    from tui.screens.views import GroupScreen

    async with running((80, 24), 4) as (app, pilot):
        await pilot.press("c")
        rows = app.screen.query_one("#groups").rows_in_order()
        pod = next(row for row in rows if row.group.label.startswith("kubernetes:"))
        await pilot.press(*["j"] * rows.index(pod), "enter")
        assert isinstance(app.screen, GroupScreen)
        lines = screen_text(app)
        (where,) = [line.strip() for line in lines if line.strip().startswith("cgroup ")]
        assert len(pod.group.path) > 80
        tail = pod.group.path.rsplit("/", 1)[1]
        assert where.rstrip().endswith(tail[-40:]) and "…" in where


async def test_a_replay_says_the_recorded_machine_and_run_not_this_ones(tmp_path) -> None:
    """The status line of a replay named this machine, no filter and sample 1/1000."""
    import json

    from tests.ui.scenes import RECORDINGS
    from tui.sources.recording import ReplaySource, load_recording

    lines = (RECORDINGS / "demo.jsonl").read_text().splitlines(keepends=True)
    header = json.loads(lines[0])
    header.update(
        host="prod-db-7", kernel="5.10.0-28-amd64", cpus=64, filters="pid 4242", sample_every=1
    )
    recording = tmp_path / "elsewhere.jsonl"
    recording.write_text(json.dumps(header) + "\n" + "".join(lines[1:]))
    replay = ReplaySource(load_recording(recording))
    app = make_app(Config(), replay, describe=replay.describe, start_collector=False)
    async with running((160, 30), 2, app) as (app, _pilot):
        status = table(app, "#status").plain
        assert "prod-db-7 5.10.0-28-amd64 64cpu" in status
        assert "filter: pid 4242" in status and "sample 1/1 " in status + " "


async def test_the_groups_note_counts_in_words_that_agree() -> None:
    async with running((100, 30), 3) as (app, pilot):
        await pilot.press("c", "slash", *"docker", "enter")
        await pilot.pause()
        note = app.screen.query_one("#view-note").render()
        assert str(note).startswith("1 group (1 container) by cgroup v2")
