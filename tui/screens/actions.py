"""Actions on a process, each behind a confirmation: send a signal, list its open files."""

from __future__ import annotations

import signal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

SIGNALS = (
    signal.SIGTERM,
    signal.SIGINT,
    signal.SIGHUP,
    signal.SIGQUIT,
    signal.SIGUSR1,
    signal.SIGUSR2,
    signal.SIGSTOP,
    signal.SIGCONT,
    signal.SIGKILL,
)


class SignalScreen(ModalScreen[int | None]):
    """Choose a signal for a process, then confirm with y; Esc or n sends nothing."""

    BINDINGS = [
        Binding("escape,n,q", "dismiss_nothing", "Cancel"),
        Binding("y", "confirm", "Send", show=False),
    ]

    def __init__(self, pid: int, comm: str) -> None:
        super().__init__()
        self.pid = pid
        self.comm = comm
        self.chosen: int | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="action-box"):
            title = Text("send a signal to ", style="bold")
            title.append(f"{self.comm}[{self.pid}]")
            yield Static(title, id="action-title")
            yield OptionList(
                *(Option(f"{sig.name} ({int(sig)})", id=str(int(sig))) for sig in SIGNALS),
                id="signals",
            )
            yield Static("Enter chooses, then y sends; Esc cancels", id="action-note")

    @on(OptionList.OptionSelected, "#signals")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.chosen = int(event.option.id or 0)
        note = Text(f"send {signal.Signals(self.chosen).name} to ", style="bold reverse")
        note.append(f"{self.comm}[{self.pid}]? y sends, n cancels")
        self.query_one("#action-note", Static).update(note)

    def action_confirm(self) -> None:
        """Send only after a signal was chosen and y pressed."""
        if self.chosen is not None:
            self.dismiss(self.chosen)

    def action_dismiss_nothing(self) -> None:
        """Close without sending anything."""
        self.dismiss(None)


class TextScreen(ModalScreen[None]):
    """A scrollable text (open files), shown literally; any of Esc, q, Enter closes it."""

    BINDINGS = [Binding("escape,q,enter", "close", "Close")]

    def __init__(self, title: str, lines: list[str]) -> None:
        super().__init__()
        self.title_text = title
        self.lines = lines

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="action-box"):
            yield Static(Text(self.title_text, style="bold"), id="action-title")
            yield Static(Text("\n".join(self.lines) or "(none)"), id="action-text")

    def action_close(self) -> None:
        """Close the list."""
        self.dismiss(None)
