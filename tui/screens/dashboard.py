"""The main screen: status, top syscalls, processes, and the selected syscall's detail."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.widgets import Footer, Static

from tui.manpages import describe_syscall
from tui.model.view import (
    Frame,
    View,
    ViewKind,
    ViewOpened,
    is_flagged_pid,
    is_flagged_slot,
    process_trend,
    syscall_trend,
    visible_processes,
    visible_syscalls,
)
from tui.screens.base import FrameScreen
from tui.widgets.detail import SyscallDetail
from tui.widgets.keyed_table import KeyedTable
from tui.widgets.status import StatusBar
from tui.widgets.tables import ProcessRatesTable, TopSyscallsTable

NARROW_BELOW_COLUMNS = 130


class DashboardScreen(FrameScreen):
    """What the processes are asking the kernel, right now."""

    BINDINGS = [
        Binding("slash", "start_filter", "Filter"),
        Binding("escape,backspace", "clear_filter", "Back", show=False),
    ]

    def __init__(self, frame: Frame) -> None:
        super().__init__(frame)
        self._descriptions: dict[str, str | None] = {}

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield TopSyscallsTable(
                    lambda slot: syscall_trend(self.frame.snapshot, slot),
                    lambda slot: is_flagged_slot(self.frame.snapshot, slot),
                    id="syscalls",
                )
                yield ProcessRatesTable(
                    lambda pid: process_trend(self.frame.snapshot, pid),
                    lambda pid: is_flagged_pid(self.frame.snapshot, pid),
                    id="processes",
                )
            yield SyscallDetail(id="detail")
        yield Static(id="timebar")
        yield self.filter_input()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#syscalls", KeyedTable).pane_title = "Top syscalls"
        self.query_one("#processes", KeyedTable).pane_title = "Processes"
        self.query_one("#detail").border_title = "Detail"
        self.query_one("#syscalls", TopSyscallsTable).focus()
        self._apply_size(self.app.size.width)
        self.refresh_view()

    def on_resize(self, event: Resize) -> None:
        self._apply_size(event.size.width)

    def _apply_size(self, width: int) -> None:
        narrow = width < NARROW_BELOW_COLUMNS
        self.set_class(narrow, "-narrow")
        self._render_detail()

    # -- showing snapshots -----------------------------------------------------------------

    def refresh_view(self) -> None:
        """Redraw everything from the frame."""
        frame = self.frame
        snapshot = frame.snapshot
        with self.app.batch_update():  # one frame per interval, however many cells changed
            self.show_status()
            timebar = self.query_one("#timebar", Static)
            timebar.display = frame.replay_bar is not None
            if frame.replay_bar is not None:
                timebar.update(frame.replay_bar)
            if snapshot is None:
                return
            self.query_one("#syscalls", TopSyscallsTable).show(
                visible_syscalls(snapshot, frame.view)
            )
            self.query_one("#processes", ProcessRatesTable).show(
                visible_processes(snapshot, frame.view)
            )
            self._render_detail()

    def _render_detail(self) -> None:
        if not self.is_mounted:
            return
        snapshot = self.frame.snapshot
        row = self.query_one("#syscalls", TopSyscallsTable).selected_row
        if row is not None and row.name not in self._descriptions:
            self._descriptions[row.name] = None
            self._look_up_description(row.name)
        description = self._descriptions.get(row.name) if row is not None else None
        compact_view = self.has_class("-narrow")
        timed = self.frame.facts.tier != "counts"
        self.query_one("#detail", SyscallDetail).show(
            row, snapshot, description, compact_view, timed
        )

    @work(thread=True, exclusive=False)
    def _look_up_description(self, name: str) -> None:
        text = describe_syscall(name)
        self.app.call_from_thread(self._description_found, name, text)

    def _description_found(self, name: str, text: str | None) -> None:
        self._descriptions[name] = text
        self._render_detail()

    @on(KeyedTable.RowHighlighted, "#syscalls")
    def _syscall_highlighted(self) -> None:
        self._render_detail()

    @on(KeyedTable.RowSelected, "#syscalls")
    def _syscall_chosen(self) -> None:
        row = self.query_one("#syscalls", TopSyscallsTable).selected_row
        if row is not None:
            self.act(ViewOpened(View(ViewKind.SYSCALL, row.slot)))

    @on(KeyedTable.RowSelected, "#processes")
    def _process_chosen(self) -> None:
        row = self.query_one("#processes", ProcessRatesTable).selected_row
        if row is not None:
            self.act(ViewOpened(View(ViewKind.PROCESS, row.pid)))
