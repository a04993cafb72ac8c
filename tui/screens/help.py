"""The help screen: every key, from tui/keys.py."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.keys import SECTIONS


def _section(title: str, keys: tuple[tuple[str, str], ...]) -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(no_wrap=True, overflow="ellipsis")
    table.add_row(Text(title, style="bold underline"), Text(""))
    for key, action in keys:
        table.add_row(Text(key), Text(action))
    return table


def keys_table() -> Table:
    """Return the keys in sections, two sections side by side: one page at 80x24."""
    grid = Table.grid(padding=(0, 3))
    grid.add_column()
    grid.add_column()
    for left, right in zip(SECTIONS[0::2], SECTIONS[1::2], strict=False):
        grid.add_row(_section(*left), _section(*right))
    return grid


class HelpScreen(ModalScreen[None]):
    """Lists every key; any of Esc, q, ? or F1 closes it."""

    BINDINGS = [
        Binding("escape,q,question_mark,f1,backspace", "dismiss", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(Text("syscalltop keys (Esc closes)", style="bold"), id="help-title")
            yield Static(keys_table(), id="help-keys")
            yield Static(
                Text(
                    "! above baseline · AVG* mean > p99 · ≥ lower bound · dim PID: exited. "
                    "More: man syscalltop",
                    style="dim",
                ),
                id="help-note",
            )

    async def action_dismiss(self, result: None = None) -> None:
        """Close the help screen."""
        self.dismiss(None)
