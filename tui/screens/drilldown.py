"""Drill-downs: a syscall's callers, and one process's syscall mix; Esc goes back."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Static

from tui.manpages import describe_syscall
from tui.model.snapshot import ProcessRow, Snapshot
from tui.model.view import (
    Frame,
    View,
    ViewClosed,
    ViewKind,
    ViewOpened,
    is_flagged_pid,
    visible_callers,
)
from tui.screens.actions import SignalScreen
from tui.screens.base import FrameScreen, ProcessAction
from tui.widgets.detail import detail_renderable, heatmap_lines, sample_line, target_lines
from tui.widgets.format import compact
from tui.widgets.keyed_table import KeyedTable
from tui.widgets.status import StatusBar
from tui.widgets.tables import CallerRow, CallersTable, ProcessSyscallsTable


def process_calls_text(snapshot: Snapshot, pid: int) -> Text:
    """Return a process's failing targets and its recent decoded calls, oldest first."""
    parts: list[Text] = []
    targets = snapshot.targets_of(pid=pid)
    if targets:
        parts.append(Text("failing targets", style="bold"))
        parts.extend(target_lines(targets, 8))
    calls = snapshot.calls_of(pid)
    parts.append(Text("recent calls (sampled and captured)", style="bold"))
    parts.extend(sample_line(call) for call in calls)
    if not calls:
        parts.append(Text("none sampled or captured yet", style="dim"))
    return Text("\n", overflow="fold").join(parts)


class DrillDownScreen(FrameScreen):
    """Shared behaviour: back keys, status bar, redraw on each frame."""

    BINDINGS = [Binding("escape,backspace", "back", "Back")]

    def action_back(self) -> None:
        """Return to the previous screen (or, typing a filter, clear it)."""
        if self.filter_has_focus():
            self.action_clear_filter()
        else:
            self.act(ViewClosed())

    def on_mount(self) -> None:
        self.refresh_view()

    def refresh_view(self) -> None:
        """Redraw from the frame."""
        self.show_status()
        if self.frame.snapshot is not None:
            self.redraw(self.frame.snapshot)

    def redraw(self, snapshot: Snapshot) -> None:
        """Redraw the screen's own content."""
        raise NotImplementedError


class SyscallScreen(DrillDownScreen):
    """One syscall: its detail and every process calling it."""

    def __init__(self, frame: Frame, slot: int) -> None:
        super().__init__(frame)
        self.slot = slot
        self.add_class("drilldown")

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        with Horizontal(id="drill-main"):
            yield CallersTable(lambda pid: is_flagged_pid(self.frame.snapshot, pid), id="callers")
            with VerticalScroll(id="drill-detail-box"):
                yield Static(id="drill-detail")
        yield self.filter_input()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#callers", CallersTable).pane_title = "Callers"
        self.query_one("#callers", CallersTable).focus()
        super().on_mount()

    def redraw(self, snapshot: Snapshot) -> None:
        row = snapshot.syscall(self.slot)
        name = self.frame.names.decode(self.slot).name
        description = describe_syscall(name) if row is not None else None
        detail = (
            detail_renderable(
                row,
                snapshot,
                description,
                compact_view=False,
                timed=self.frame.facts.tier != "counts",
            )
            if row is not None
            else Text(f"{name}: no calls recorded yet", style="dim")
        )
        history = snapshot.hist_history.get(self.slot)
        if history:
            heatmap = [Text("\nlatency over the last intervals (heatmap)", style="bold")]
            heatmap += heatmap_lines(history)
            detail = Text("\n").join([detail, *heatmap])
        self.query_one("#drill-detail", Static).update(detail)
        callers = [
            CallerRow(process, call)
            for process, call in visible_callers(snapshot, self.frame.view, self.slot)
        ]
        self.query_one("#callers", CallersTable).show(callers)

    @on(KeyedTable.RowSelected, "#callers")
    def _caller_chosen(self) -> None:
        row = self.query_one("#callers", CallersTable).selected_row
        if row is not None:
            self.act(ViewOpened(View(ViewKind.PROCESS, row.process.pid)))


class ProcessScreen(DrillDownScreen):
    """One process: who it is and its syscall mix with rates, errors and latency."""

    BINDINGS = [
        Binding("K,f9", "signal_process", "Signal…"),
        Binding("o", "open_files", "Open files"),
        Binding("y", "copy_strace", "Copy strace"),
    ]

    def __init__(self, frame: Frame, pid: int) -> None:
        super().__init__(frame)
        self.pid = pid
        self.add_class("drilldown")

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield Static(id="process-header")
        yield ProcessSyscallsTable(id="process-syscalls")
        with VerticalScroll(id="process-calls-box"):
            yield Static(id="process-calls")
        yield self.filter_input()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#process-syscalls", ProcessSyscallsTable).pane_title = "Syscalls"
        self.query_one("#process-syscalls", ProcessSyscallsTable).focus()
        super().on_mount()

    def redraw(self, snapshot: Snapshot) -> None:
        process = snapshot.process(self.pid)
        header = self.query_one("#process-header", Static)
        if process is None:
            header.update(
                Text(f"pid {self.pid}: no syscalls this interval (idle or exited)", style="dim")
            )
            self.query_one("#process-syscalls", ProcessSyscallsTable).show([])
            return
        title = Text(no_wrap=True, overflow="ellipsis")
        title.append(process.comm, style="bold")
        title.append(" ")
        title.append(f"· pid {process.pid} · user {process.user}")
        if process.seccomp:
            title.append(f" · seccomp {process.seccomp}")
        if process.group is not None:
            title.append(f" · {process.group.label}")
        numbers = Text(
            f"{compact(process.rate)} calls/s  {compact(process.error_rate)} err/s  "
            f"interval {compact(process.count)}  total {compact(process.total)}",
            no_wrap=True,
        )
        cmdline = Text(
            process.cmdline or "(no command line)", style="dim", no_wrap=True, overflow="ellipsis"
        )
        header.update(Text("\n", no_wrap=True, overflow="ellipsis").join([title, numbers, cmdline]))
        self.query_one("#process-syscalls", ProcessSyscallsTable).show(list(process.syscalls))
        self.query_one("#process-calls", Static).update(process_calls_text(snapshot, self.pid))

    def _shown_process(self) -> ProcessRow | None:
        snapshot = self.frame.snapshot
        return snapshot.process(self.pid) if snapshot is not None else None

    def action_signal_process(self) -> None:
        """Choose a signal for this process and confirm it (the app sends it)."""
        process = self._shown_process()
        comm = process.comm if process is not None else str(self.pid)

        def chosen(signum: int | None) -> None:
            if signum is not None:
                self.post_message(ProcessAction("signal", self.pid, comm, signum))

        self.app.push_screen(SignalScreen(self.pid, comm), chosen)

    def action_open_files(self) -> None:
        """List this process's open files."""
        process = self._shown_process()
        comm = process.comm if process is not None else str(self.pid)
        self.post_message(ProcessAction("open_files", self.pid, comm))

    def action_copy_strace(self) -> None:
        """Copy `strace -f -p PID -e trace=NAME` for the selected syscall."""
        row = self.query_one("#process-syscalls", ProcessSyscallsTable).selected_row
        process = self._shown_process()
        comm = process.comm if process is not None else str(self.pid)
        name = row.name if row is not None else ""
        self.post_message(ProcessAction("strace", self.pid, comm, detail=name))

    @on(KeyedTable.RowSelected, "#process-syscalls")
    def _syscall_chosen(self) -> None:
        row = self.query_one("#process-syscalls", ProcessSyscallsTable).selected_row
        if row is not None:
            self.act(ViewOpened(View(ViewKind.SYSCALL, row.slot)))
