"""What every data screen shares: it draws a Frame it is handed, and posts what the user did."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, SelectionList, Static

from tui.model.view import ColumnToggled, FilterChanged, Frame, ViewEvent
from tui.widgets.keyed_table import Column, KeyedTable
from tui.widgets.status import StatusBar

FILTER_HINT = "filter: text, or comm:/pid:/sys:/path: (Enter keeps, Esc clears)"


class UserActed(Message):
    """The user did something that changes the view state (the app folds it in)."""

    def __init__(self, event: ViewEvent) -> None:
        super().__init__()
        self.event = event


class ProcessAction(Message):
    """The user asked for something done to a process: a signal, its open files, strace."""

    def __init__(self, kind: str, pid: int, comm: str, signum: int = 0, detail: str = "") -> None:
        super().__init__()
        self.kind = kind
        self.pid = pid
        self.comm = comm
        self.signum = signum
        self.detail = detail


class FrameScreen(Screen[None]):
    """A screen drawn from the newest Frame the app handed it; never reads the app's state.

    Every view has the / filter: typing goes into it, never to the view's keys.
    """

    BINDINGS = [
        Binding("slash", "start_filter", "Filter"),
        Binding("C", "choose_columns", "Columns…", show=False),
    ]

    def __init__(self, frame: Frame) -> None:
        super().__init__()
        self.frame = frame

    def on_mount(self) -> None:
        # The config file's lasting column settings, for every table of every view.
        for table in self.query(KeyedTable):
            sort = self.frame.settings[0] if table.id == "syscalls" else None
            table.configure(sort, self.frame.settings[1])

    def show_frame(self, frame: Frame) -> None:
        """Take a new frame and redraw (once mounted)."""
        columns_changed = frame.settings[1] != self.frame.settings[1]
        self.frame = frame
        if columns_changed and self.is_mounted:
            for table in self.query(KeyedTable):
                table.configure(None, frame.settings[1])
        if self.is_mounted:
            self.refresh_view()

    def act(self, event: ViewEvent) -> None:
        """Tell the app what the user did."""
        self.post_message(UserActed(event))

    # -- the / filter ------------------------------------------------------------------------

    def filter_input(self) -> Input:
        """Return the (hidden) filter input a screen composes above its footer."""
        field = Input(placeholder=FILTER_HINT, id="filter")
        field.display = False
        return field

    def _focus_main(self) -> None:
        tables = self.query(KeyedTable)
        if tables:
            tables.first().focus()

    def action_choose_columns(self) -> None:
        """Open the column chooser for the focused table (or the first one)."""
        tables = [t for t in self.query(KeyedTable) if t.has_focus] or list(self.query(KeyedTable))
        if tables:
            hidden = frozenset(self.frame.settings[1])
            self.app.push_screen(ColumnsScreen(tables[0].all_columns, hidden, tables[0].sort_key))

    def filter_has_focus(self) -> bool:
        """Return True while the user types into the / filter."""
        fields = self.query("#filter")
        return bool(fields) and fields.first(Input).has_focus

    def action_start_filter(self) -> None:
        """Show the filter input and type into it."""
        field = self.query_one("#filter", Input)
        field.display = True
        field.value = self.frame.view.filter_text
        field.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.act(FilterChanged(event.value))

    @on(Input.Submitted, "#filter")
    def _filter_kept(self) -> None:
        self.query_one("#filter", Input).display = False
        self._focus_main()

    def action_clear_filter(self) -> None:
        """Clear the text filter and hide its input."""
        field = self.query_one("#filter", Input)
        field.value = ""
        field.display = False
        self.act(FilterChanged(""))
        self._focus_main()

    def on_screen_resume(self) -> None:
        self.refresh_view()

    def show_status(self) -> None:
        """Redraw the status bar from the frame."""
        frame = self.frame
        self.query_one("#status", StatusBar).show(frame)

    def refresh_view(self) -> None:
        """Redraw everything from the frame."""
        raise NotImplementedError


class ColumnsScreen(ModalScreen[None]):
    """The column chooser: space shows or hides a column in every table; Esc closes."""

    BINDINGS = [Binding("escape,q,C", "close", "Close")]

    def __init__(self, columns: Sequence[Column[Any]], hidden: frozenset[str], sort: str) -> None:
        super().__init__()
        self.columns = columns
        self.hidden = hidden
        self.sort = sort

    def compose(self) -> ComposeResult:
        with Vertical(id="action-box"):
            yield Static(Text("columns shown", style="bold"), id="action-title")
            yield SelectionList[str](
                *(
                    (column.label or column.key, column.key, column.key not in self.hidden)
                    for column in self.columns
                    if column.key != self.sort  # the sort column always stays
                ),
                id="columns",
            )
            yield Static(
                "space shows or hides; the sort column stays; Esc closes", id="action-note"
            )

    @on(SelectionList.SelectionToggled, "#columns")
    def _toggled(self, event: SelectionList.SelectionToggled[str]) -> None:
        self.app.post_message(UserActed(ColumnToggled(event.selection.value)))

    def action_close(self) -> None:
        """Close the chooser."""
        self.dismiss(None)
