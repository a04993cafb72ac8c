"""The main screen: status, top syscalls, processes, and the selected syscall's detail."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from tui.manpages import describe_syscall
from tui.model.snapshot import Snapshot
from tui.widgets.detail import SyscallDetail
from tui.widgets.keyed_table import KeyedTable
from tui.widgets.status import StatusBar
from tui.widgets.tables import ProcessRatesTable, TopSyscallsTable

if TYPE_CHECKING:
    from tui.app import SyscallTopApp

NARROW_BELOW_COLUMNS = 130


class DashboardScreen(Screen[None]):
    """What the processes are asking the kernel, right now."""

    BINDINGS = [
        Binding("slash", "start_filter", "Filter"),
        Binding("escape,backspace", "clear_filter", "Back", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._descriptions: dict[str, str | None] = {}
        self._selected_slot: int | None = None

    @property
    def syscalltop(self) -> SyscallTopApp:
        """Return the app with its typed state."""
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        app = self.syscalltop
        yield StatusBar(id="status")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield TopSyscallsTable(app.syscall_trend, app.is_flagged_slot, id="syscalls")
                yield ProcessRatesTable(app.process_trend, app.is_flagged_pid, id="processes")
            yield SyscallDetail(id="detail")
        yield Static(id="timebar")
        yield Input(
            placeholder="filter by syscall name or comm (Enter keeps, Esc clears)", id="filter"
        )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#syscalls").border_title = "Top syscalls"
        self.query_one("#processes").border_title = "Processes"
        self.query_one("#detail").border_title = "Detail"
        self.query_one("#filter", Input).display = False
        self.query_one("#syscalls", TopSyscallsTable).focus()
        self._apply_size(self.app.size.width)
        self.refresh_view()

    def on_screen_resume(self) -> None:
        self.refresh_view()

    def on_resize(self, event: Resize) -> None:
        self._apply_size(event.size.width)

    def _apply_size(self, width: int) -> None:
        narrow = width < NARROW_BELOW_COLUMNS
        self.set_class(narrow, "-narrow")
        self._render_detail()

    # -- showing snapshots -----------------------------------------------------------------

    def refresh_view(self) -> None:
        """Redraw everything from the app's current snapshot and view settings."""
        app = self.syscalltop
        snapshot = app.shown_snapshot
        with app.batch_update():  # one frame per interval, however many cells changed
            self.query_one("#status", StatusBar).show(
                app.facts,
                snapshot,
                app.interval_s,
                app.paused,
                app.own_cpu_pct,
                app.view_note(),
            )
            timebar = self.query_one("#timebar", Static)
            timebar.display = app.replay is not None
            if app.replay is not None:
                timebar.update(app.replay.describe())
            if snapshot is None:
                return
            self.query_one("#syscalls", TopSyscallsTable).show(app.visible_syscalls(snapshot))
            self.query_one("#processes", ProcessRatesTable).show(app.visible_processes(snapshot))
            self._render_detail()

    def _render_detail(self) -> None:
        if not self.is_mounted:
            return
        snapshot = self.syscalltop.shown_snapshot
        row = self.query_one("#syscalls", TopSyscallsTable).selected_row
        if row is not None and row.name not in self._descriptions:
            self._descriptions[row.name] = None
            self._look_up_description(row.name)
        description = self._descriptions.get(row.name) if row is not None else None
        compact_view = self.has_class("-narrow")
        self.query_one("#detail", SyscallDetail).show(row, snapshot, description, compact_view)

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
            self.syscalltop.open_syscall(row.slot)

    @on(KeyedTable.RowSelected, "#processes")
    def _process_chosen(self) -> None:
        row = self.query_one("#processes", ProcessRatesTable).selected_row
        if row is not None:
            self.syscalltop.open_process(row.pid)

    # -- the / filter ----------------------------------------------------------------------

    def action_start_filter(self) -> None:
        """Show the filter input and type into it."""
        field = self.query_one("#filter", Input)
        field.display = True
        field.value = self.syscalltop.filter_text
        field.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.syscalltop.set_filter_text(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_kept(self) -> None:
        self.query_one("#filter", Input).display = False
        self.query_one("#syscalls", TopSyscallsTable).focus()

    def action_clear_filter(self) -> None:
        """Clear the text filter and hide its input."""
        field = self.query_one("#filter", Input)
        field.value = ""
        field.display = False
        self.syscalltop.set_filter_text("")
        self.query_one("#syscalls", TopSyscallsTable).focus()

    def key_escape(self) -> None:
        """Esc inside the filter input clears it too."""
        if self.query_one("#filter", Input).has_focus:
            self.action_clear_filter()

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Called by the app when a new interval is ready (and not paused)."""
        self.refresh_view()
