"""Whole-screen views: threads in flight, the anomaly log, and errors by errno."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.widgets import Footer, Static

from tui.model.snapshot import Snapshot
from tui.model.view import View, ViewKind, ViewOpened, error_rows, visible_inflight
from tui.screens.drilldown import DrillDownScreen
from tui.widgets.keyed_table import KeyedTable
from tui.widgets.status import StatusBar
from tui.widgets.tables import AnomalyLogTable, ErrorsTable, InflightTable


class InflightScreen(DrillDownScreen):
    """Threads inside a syscall now, longest first (≥ marks those blocked before start)."""

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield Static(id="view-note")
        yield InflightTable(id="inflight")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#inflight", InflightTable).border_title = "In flight"
        self.query_one("#inflight", InflightTable).focus()
        super().on_mount()

    def redraw(self, snapshot: Snapshot) -> None:
        rows = visible_inflight(snapshot, self.frame.view)
        self.query_one("#view-note", Static).update(
            f"{len(rows)} threads inside a syscall; ≥ = blocked since before syscalltop started "
            "(elapsed is a lower bound)"
        )
        self.query_one("#inflight", InflightTable).show(rows)


class AnomalyScreen(DrillDownScreen):
    """The anomaly log, newest first; b resets the baseline."""

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield Static(id="view-note")
        yield AnomalyLogTable(id="anomalies")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#anomalies", AnomalyLogTable).border_title = "Anomalies"
        self.query_one("#anomalies", AnomalyLogTable).focus()
        super().on_mount()

    def redraw(self, snapshot: Snapshot) -> None:
        note = (
            "baseline warming up: no alarms yet"
            if snapshot.warming_up
            else ("against a rolling baseline per syscall and per process; b resets it")
        )
        self.query_one("#view-note", Static).update(note)
        self.query_one("#anomalies", AnomalyLogTable).show(list(self.frame.anomaly_log))


class ErrorsScreen(DrillDownScreen):
    """Errors this interval: errno, then syscall, then the process failing most."""

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield ErrorsTable(id="errors")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#errors", ErrorsTable).border_title = "Errors by errno"
        self.query_one("#errors", ErrorsTable).focus()
        super().on_mount()

    def redraw(self, snapshot: Snapshot) -> None:
        self.query_one("#errors", ErrorsTable).show(error_rows(snapshot, self.frame.view))

    @on(KeyedTable.RowSelected, "#errors")
    def _error_chosen(self) -> None:
        row = self.query_one("#errors", ErrorsTable).selected_row
        if row is not None:
            self.act(ViewOpened(View(ViewKind.SYSCALL, row.syscall.slot)))
