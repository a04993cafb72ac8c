"""What every data screen shares: it draws a Frame it is handed, and posts what the user did."""

from __future__ import annotations

from textual import on
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input

from tui.model.view import FilterChanged, Frame, ViewEvent
from tui.widgets.keyed_table import KeyedTable
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

    BINDINGS = [Binding("slash", "start_filter", "Filter")]

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
        self.frame = frame
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
