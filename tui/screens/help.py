"""The help screen: every key, from tui/keys.py."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.keys import KEYS


def keys_table() -> Table:
    """Return the keys as a two-column table."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for key, action in KEYS:
        table.add_row(Text(key), Text(action))
    return table


class HelpScreen(ModalScreen[None]):
    """Lists every key; any of Esc, q, ? or F1 closes it."""

    BINDINGS = [
        Binding("escape,q,question_mark,f1,backspace", "dismiss", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(Text("syscalltop keys", style="bold"), id="help-title")
            yield Static(keys_table(), id="help-keys")
            yield Static(
                Text(
                    "Rates are per second over the last interval; latency percentiles are "
                    "log2-bucket upper bounds. ! marks a row above its baseline; AVG* a mean "
                    "above the p99 (a few calls far slower than the rest: see MAX); ≥ an "
                    "elapsed time that is a lower bound; a dimmed PID a process that exited. "
                    "Esc closes.",
                    style="dim",
                ),
                id="help-note",
            )

    async def action_dismiss(self, result: None = None) -> None:
        """Close the help screen."""
        self.dismiss(None)
