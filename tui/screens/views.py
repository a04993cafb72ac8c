"""Whole-screen views: threads in flight, the anomaly log, and errors by errno."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Static

from tui.model.snapshot import Snapshot
from tui.model.view import (
    Frame,
    View,
    ViewKind,
    ViewOpened,
    WaitsToggled,
    error_rows,
    group_processes,
    group_trend,
    is_flagged_pid,
    process_trend,
    target_rows,
    text_matches,
    visible_groups,
    visible_inflight,
)
from tui.screens.drilldown import DrillDownScreen
from tui.widgets.format import compact
from tui.widgets.keyed_table import KeyedTable
from tui.widgets.status import StatusBar
from tui.widgets.tables import (
    ErrorsTable,
    GroupsTable,
    IncidentsTable,
    InflightTable,
    ProcessRatesTable,
    TargetsTable,
)


class InflightScreen(DrillDownScreen):
    """Threads inside a syscall now, longest first (≥ marks those blocked before start)."""

    BINDINGS = [Binding("w", "toggle_waits", "Hide idle waits")]

    def action_toggle_waits(self) -> None:
        """Hide (or show again) the threads idling in epoll_wait, poll, futex and the like."""
        self.act(WaitsToggled())

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield Static(id="view-note")
        yield InflightTable(id="inflight")
        yield self.filter_input()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#inflight", InflightTable).pane_title = "In flight"
        self.query_one("#inflight", InflightTable).focus()
        super().on_mount()

    def redraw(self, snapshot: Snapshot) -> None:
        rows = visible_inflight(snapshot, self.frame.view)
        hidden = " (idle waits hidden: w shows them)" if self.frame.view.hide_waits else ""
        if self.frame.facts.tier == "counts":
            self.query_one("#view-note", Static).update(
                "the counts tier watches no syscall entries, so nothing is known to be in "
                "flight: run with --level full to list the threads inside a syscall"
            )
            self.query_one("#inflight", InflightTable).show([])
            return
        self.query_one("#view-note", Static).update(
            f"{len(rows)} threads inside a syscall{hidden}; ≥ = blocked since before "
            "syscalltop started (from when it last ran: a lower bound)"
        )
        self.query_one("#inflight", InflightTable).show(rows)

    @on(KeyedTable.RowSelected, "#inflight")
    def _thread_chosen(self) -> None:
        row = self.query_one("#inflight", InflightTable).selected_row
        if row is not None:
            self.act(ViewOpened(View(ViewKind.PROCESS, row.pid)))


class AnomalyScreen(DrillDownScreen):
    """Anomaly incidents: one row per episode, active first; Enter opens its process; b resets."""

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield Static(id="view-note")
        yield IncidentsTable(id="anomalies")
        yield self.filter_input()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#anomalies", IncidentsTable).pane_title = "Incidents"
        self.query_one("#anomalies", IncidentsTable).focus()
        super().on_mount()

    def redraw(self, snapshot: Snapshot) -> None:
        view = self.frame.view
        rows = [i for i in snapshot.incidents if text_matches(view, i.syscall, i.who, i.kind)]
        active = sum(1 for incident in rows if incident.active)
        note = f"{active} active, {len(rows) - active} ended; "
        note += (
            "baseline warming up: only first-sight calls (ptrace, bpf, setuid, ...) alarm"
            if snapshot.warming_up
            else "against rolling baselines per syscall and per process; b resets them"
        )
        self.query_one("#view-note", Static).update(note)
        self.query_one("#anomalies", IncidentsTable).show(rows)

    @on(KeyedTable.RowSelected, "#anomalies")
    def _incident_chosen(self) -> None:
        incident = self.query_one("#anomalies", IncidentsTable).selected_row
        if incident is None:
            return
        if incident.pid is not None:
            self.act(ViewOpened(View(ViewKind.PROCESS, incident.pid)))
        else:
            self.act(ViewOpened(View(ViewKind.SYSCALL, incident.slot)))


class ErrorsScreen(DrillDownScreen):
    """Errors this interval: errno, syscall, the target and the process failing most."""

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield ErrorsTable(id="errors")
        yield self.filter_input()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#errors", ErrorsTable).pane_title = "Errors by errno"
        self.query_one("#errors", ErrorsTable).focus()
        super().on_mount()

    def redraw(self, snapshot: Snapshot) -> None:
        self.query_one("#errors", ErrorsTable).show(error_rows(snapshot, self.frame.view))

    @on(KeyedTable.RowSelected, "#errors")
    def _error_chosen(self) -> None:
        row = self.query_one("#errors", ErrorsTable).selected_row
        if row is not None:
            self.act(ViewOpened(View(ViewKind.TARGETS, row.syscall.slot, row.errno)))


class TargetsScreen(DrillDownScreen):
    """Where one syscall failed with one errno this interval, from the captured calls."""

    def __init__(self, frame: Frame, slot: int, errno: str) -> None:
        super().__init__(frame)
        self.slot = slot
        self.errno = errno

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield Static(id="view-note")
        yield TargetsTable(id="targets")
        yield Static(id="target-call")
        yield self.filter_input()
        yield Footer()

    def on_mount(self) -> None:
        name = self.frame.names.decode(self.slot).label
        self.query_one("#targets", TargetsTable).pane_title = f"{name} {self.errno}: targets"
        self.query_one("#targets", TargetsTable).focus()
        super().on_mount()

    def redraw(self, snapshot: Snapshot) -> None:
        rows = target_rows(snapshot, self.frame.view, self.slot, self.errno)
        row = snapshot.syscall(self.slot)
        captured = row.failures_captured if row is not None else 0
        failed = captured + (row.failures_suppressed if row is not None else 0)
        note = f"captured {captured} of {failed} failures with their arguments this interval"
        if snapshot.targets_dropped:
            note += f"; {snapshot.targets_dropped} more targets did not fit"
        self.query_one("#view-note", Static).update(note)
        table = self.query_one("#targets", TargetsTable)
        table.show(rows)
        chosen = table.selected_row or (rows[0] if rows else None)
        self.query_one("#target-call", Static).update(
            Text(chosen.call) if chosen is not None else "no failing call captured this interval"
        )

    @on(KeyedTable.RowHighlighted, "#targets")
    def _target_highlighted(self) -> None:
        row = self.query_one("#targets", TargetsTable).selected_row
        if row is not None:
            self.query_one("#target-call", Static).update(Text(row.call))  # never markup

    @on(KeyedTable.RowSelected, "#targets")
    def _target_chosen(self) -> None:
        row = self.query_one("#targets", TargetsTable).selected_row
        if row is not None:
            self.act(ViewOpened(View(ViewKind.PROCESS, row.pid)))


class GroupsScreen(DrillDownScreen):
    """Containers, pods, services and sessions this interval, busiest first."""

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield Static(id="view-note")
        yield GroupsTable(lambda key: group_trend(self.frame.snapshot, key), id="groups")
        yield self.filter_input()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#groups", GroupsTable).pane_title = "Containers and services"
        self.query_one("#groups", GroupsTable).focus()
        super().on_mount()

    def redraw(self, snapshot: Snapshot) -> None:
        rows = visible_groups(snapshot, self.frame.view)
        containers = sum(1 for row in rows if row.group.is_container)
        self.query_one("#view-note", Static).update(
            f"{_counted(len(rows), 'group')} ({_counted(containers, 'container')}) by cgroup v2;"
            " Enter shows one"
        )
        self.query_one("#groups", GroupsTable).show(rows)

    @on(KeyedTable.RowSelected, "#groups")
    def _group_chosen(self) -> None:
        row = self.query_one("#groups", GroupsTable).selected_row
        if row is not None:
            self.act(ViewOpened(View(ViewKind.GROUP, detail=row.key)))


class GroupScreen(DrillDownScreen):
    """One container or service: what it is, and its processes."""

    def __init__(self, frame: Frame, key: str) -> None:
        super().__init__(frame)
        self.key = key

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield Static(id="group-header")
        yield ProcessRatesTable(
            lambda pid: process_trend(self.frame.snapshot, pid),
            lambda pid: is_flagged_pid(self.frame.snapshot, pid),
            id="group-processes",
        )
        yield self.filter_input()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#group-processes", ProcessRatesTable).pane_title = "Processes"
        self.query_one("#group-processes", ProcessRatesTable).focus()
        super().on_mount()

    def redraw(self, snapshot: Snapshot) -> None:
        row = snapshot.group(self.key)
        header = self.query_one("#group-header", Static)
        if row is None:
            header.update(Text(f"{self.key}: no calls this interval", style="dim"))
            self.query_one("#group-processes", ProcessRatesTable).show([])
            return
        title = Text(no_wrap=True, overflow="ellipsis")
        title.append(row.group.label, style="bold")
        title.append(f"  {compact(row.rate)} calls/s  {compact(row.error_rate)} err/s")
        # The end of a path names the container or unit: cut from the front to fit.
        room = max(self.size.width - 2 - len("cgroup "), 12)  # the header's padding, 1 a side
        path = row.group.path if len(row.group.path) <= room else "…" + row.group.path[1 - room :]
        where = Text(f"cgroup {path}", style="dim", no_wrap=True, overflow="ellipsis")
        header.update(Text("\n", no_wrap=True, overflow="ellipsis").join([title, where]))
        self.query_one("#group-processes", ProcessRatesTable).show(
            group_processes(snapshot, self.frame.view, self.key)
        )

    @on(KeyedTable.RowSelected, "#group-processes")
    def _process_chosen(self) -> None:
        row = self.query_one("#group-processes", ProcessRatesTable).selected_row
        if row is not None:
            self.act(ViewOpened(View(ViewKind.PROCESS, row.pid)))


def _counted(number: int, noun: str) -> str:
    """Return "1 group", "2 groups"."""
    return f"{number} {noun}{'' if number == 1 else 's'}"
