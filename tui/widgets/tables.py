"""Tables keyed by syscall or pid: the cursor stays on the same row while numbers move."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from tui.model.snapshot import ProcessRow, ProcessSyscallRow, SyscallRow
from tui.widgets.format import compact, duration, percent, sparkline

RowT = TypeVar("RowT")
TREND_WIDTH = 8


class KeyedText(Text):
    """Text that knows which row it is in, so DataTable.sort can order rows by our key."""

    __slots__ = ("row_key",)

    def __init__(self, *args: Any, row_key: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.row_key = row_key


@dataclass(frozen=True, slots=True)
class Column(Generic[RowT]):
    """One table column: how to show a row in it and how to sort by it."""

    key: str
    label: str
    width: int
    render: Callable[[RowT], str | Text]
    sort_value: Callable[[RowT], Any]
    numeric: bool = True


class KeyedTable(DataTable[Any], Generic[RowT]):
    """A DataTable whose rows are identified by a key and sorted by a chosen column."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("s", "next_sort", "Sort"),
        Binding("greater_than_sign", "next_sort", "Sort >", show=False),
        Binding("less_than_sign", "previous_sort", "Sort <", show=False),
        Binding("r", "reverse_sort", "Reverse", show=False),
    ]

    class SortChanged(Message):
        """The sort column or direction of a table changed."""

    def __init__(
        self,
        columns: Sequence[Column[RowT]],
        row_key: Callable[[RowT], str],
        sort_key: str,
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.columns_spec = list(columns)
        self.row_key_of = row_key
        self.sort_key = sort_key
        self.sort_descending = True
        self._rows: dict[str, RowT] = {}
        self._order: list[str] = []
        self._cells: dict[str, tuple[str | Text, ...]] = {}

    def on_mount(self) -> None:
        for column in self.columns_spec:
            self.add_column(self._header(column), key=column.key, width=column.width)

    def _header(self, column: Column[RowT]) -> Text:
        label = column.label
        if column.key == self.sort_key:
            label += "▼" if self.sort_descending else "▲"
        return Text(label, justify="right" if column.numeric else "left")

    def _render_row(self, key: str, row: RowT) -> tuple[str | Text, ...]:
        cells: list[str | Text] = []
        for index, column in enumerate(self.columns_spec):
            value = column.render(row)
            justify = "right" if column.numeric else "left"
            if index == 0:
                # The first cell carries the row key for sorting; it is plain text as well.
                plain = value.plain if isinstance(value, Text) else value
                value = KeyedText(plain, justify=justify, no_wrap=True, row_key=key)
            elif isinstance(value, str):
                # Plain Text never parses markup: process-controlled strings stay literal.
                value = Text(value, justify=justify, no_wrap=True)
            cells.append(value)
        return tuple(cells)

    @property
    def selected_key(self) -> str | None:
        """Return the key of the row under the cursor."""
        if not self._order or self.cursor_row < 0 or self.cursor_row >= len(self._order):
            return None
        return self._order[self.cursor_row]

    @property
    def selected_row(self) -> RowT | None:
        """Return the row under the cursor."""
        key = self.selected_key
        return self._rows.get(key) if key is not None else None

    def _sorted_keys(self, rows: dict[str, RowT]) -> list[str]:
        column = next(c for c in self.columns_spec if c.key == self.sort_key)
        keys = sorted(rows, key=lambda k: (column.sort_value(rows[k]), k))
        return keys[::-1] if self.sort_descending else keys

    def show(self, rows: Sequence[RowT]) -> None:
        """Display `rows`: remove gone, update changed cells, add new, sort; cursor follows."""
        selected = self.selected_key
        by_key = {self.row_key_of(row): row for row in rows}
        order = self._sorted_keys(by_key)
        cells = {key: self._render_row(key, by_key[key]) for key in order}
        for key in self._order:
            if key not in by_key:
                self.remove_row(key)
        for key in order:
            old_cells = self._cells.get(key)
            if old_cells is None:
                self.add_row(*cells[key], key=key)
                continue
            for column, old, new in zip(self.columns_spec, old_cells, cells[key]):
                if old != new:
                    self.update_cell(key, column.key, new)
        current = [key for key in self._order if key in by_key]
        current += [key for key in order if key not in self._cells]
        if current != order:
            position = {key: index for index, key in enumerate(order)}
            self.sort(key=lambda row_cells: position[row_cells[0].row_key])
        self._rows, self._order, self._cells = by_key, order, cells
        if selected in by_key and self.cursor_row != order.index(selected):
            self.move_cursor(row=order.index(selected), animate=False, scroll=False)

    def set_sort(self, column_key: str, descending: bool | None = None) -> None:
        """Sort by a column (toggling direction when it is already the sort column)."""
        if descending is None:
            descending = not self.sort_descending if column_key == self.sort_key else True
        self.sort_key, self.sort_descending = column_key, descending
        for column in self.columns_spec:
            self.columns[column.key].label = self._header(column)  # type: ignore[index]
        self._resort()
        self.post_message(self.SortChanged())

    def _resort(self) -> None:
        self.show(list(self._rows.values()))

    def _step_sort(self, step: int) -> None:
        keys = [column.key for column in self.columns_spec]
        index = (keys.index(self.sort_key) + step) % len(keys)
        self.set_sort(keys[index], descending=True)

    def action_next_sort(self) -> None:
        """Sort by the next column."""
        self._step_sort(1)

    def action_previous_sort(self) -> None:
        """Sort by the previous column."""
        self._step_sort(-1)

    def action_reverse_sort(self) -> None:
        """Reverse the sort direction."""
        self.set_sort(self.sort_key, not self.sort_descending)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.set_sort(str(event.column_key.value))


def _trend(series: Callable[[Any], Sequence[float]]) -> Callable[[Any], Text]:
    def render(row: Any) -> Text:
        return Text(sparkline(series(row), TREND_WIDTH), style="cyan", no_wrap=True)

    return render


def _errors_cell(value: float, text: str) -> Text:
    return Text(text, justify="right", style="bold red" if value else "")


class TopSyscallsTable(KeyedTable[SyscallRow]):
    """The hottest syscalls: rate, share, errors, latency and trend."""

    def __init__(self, trends: Callable[[int], Sequence[float]], *, id: str | None = None) -> None:
        columns: list[Column[SyscallRow]] = [
            Column("name", "SYSCALL", 15, lambda r: r.label, lambda r: r.label, numeric=False),
            Column("nr", "NR", 3, lambda r: str(r.nr) if r.nr >= 0 else "?", lambda r: r.nr),
            Column("rate", "RATE/s", 6, lambda r: compact(r.rate), lambda r: r.rate),
            Column("share", "SHARE%", 6, lambda r: percent(r.share), lambda r: r.share),
            Column(
                "errors",
                "ERR/s",
                5,
                lambda r: _errors_cell(r.error_rate, compact(r.error_rate) if r.errors else ""),
                lambda r: r.error_rate,
            ),
            Column(
                "error_pct",
                "ERR%",
                5,
                lambda r: _errors_cell(r.errors, percent(r.error_pct)),
                lambda r: r.error_pct,
            ),
            Column(
                "avg",
                "AVG",
                6,
                lambda r: duration(r.latency.avg_ns),
                lambda r: r.latency.avg_ns or 0,
            ),
            Column(
                "p99",
                "P99",
                6,
                lambda r: duration(r.latency.p99_ns),
                lambda r: r.latency.p99_ns or 0,
            ),
            Column(
                "trend",
                "TREND",
                TREND_WIDTH,
                _trend(lambda r: trends(r.slot)),
                lambda r: r.rate,
                numeric=False,
            ),
        ]
        super().__init__(columns, row_key=lambda r: str(r.slot), sort_key="rate", id=id)


class ProcessRatesTable(KeyedTable[ProcessRow]):
    """The busiest processes: who, how fast, how often failing, their top syscall."""

    def __init__(self, trends: Callable[[int], Sequence[float]], *, id: str | None = None) -> None:
        columns: list[Column[ProcessRow]] = [
            Column("pid", "PID", 7, lambda r: str(r.pid), lambda r: r.pid),
            Column("comm", "COMM", 15, lambda r: r.comm, lambda r: r.comm, numeric=False),
            Column("user", "USER", 8, lambda r: r.user, lambda r: r.user, numeric=False),
            Column("rate", "RATE/s", 6, lambda r: compact(r.rate), lambda r: r.rate),
            Column(
                "errors",
                "ERR/s",
                5,
                lambda r: _errors_cell(r.error_rate, compact(r.error_rate) if r.errors else ""),
                lambda r: r.error_rate,
            ),
            Column(
                "top",
                "TOP SYSCALL",
                14,
                lambda r: r.top_syscall,
                lambda r: r.top_syscall,
                numeric=False,
            ),
            Column(
                "trend",
                "TREND",
                TREND_WIDTH,
                _trend(lambda r: trends(r.pid)),
                lambda r: r.rate,
                numeric=False,
            ),
        ]
        super().__init__(columns, row_key=lambda r: str(r.pid), sort_key="rate", id=id)


class ProcessSyscallsTable(KeyedTable[ProcessSyscallRow]):
    """One process's syscall mix, with per-syscall latency."""

    def __init__(self, *, id: str | None = None) -> None:
        columns: list[Column[ProcessSyscallRow]] = [
            Column("name", "SYSCALL", 18, lambda r: r.label, lambda r: r.label, numeric=False),
            Column("rate", "RATE/s", 7, lambda r: compact(r.rate), lambda r: r.rate),
            Column("count", "COUNT", 7, lambda r: compact(r.count), lambda r: r.count),
            Column("total", "TOTAL", 7, lambda r: compact(r.total), lambda r: r.total),
            Column(
                "errors",
                "ERRORS",
                6,
                lambda r: _errors_cell(r.errors, compact(r.errors) if r.errors else ""),
                lambda r: r.errors,
            ),
            Column(
                "avg",
                "AVG",
                7,
                lambda r: duration(r.latency.avg_ns),
                lambda r: r.latency.avg_ns or 0,
            ),
            Column(
                "p99",
                "P99",
                7,
                lambda r: duration(r.latency.p99_ns),
                lambda r: r.latency.p99_ns or 0,
            ),
        ]
        super().__init__(columns, row_key=lambda r: str(r.slot), sort_key="rate", id=id)


@dataclass(frozen=True, slots=True)
class CallerRow:
    """A process calling one syscall (a row of the syscall drill-down)."""

    process: ProcessRow
    call: ProcessSyscallRow


class CallersTable(KeyedTable[CallerRow]):
    """The processes making one syscall."""

    def __init__(self, *, id: str | None = None) -> None:
        columns: list[Column[CallerRow]] = [
            Column("pid", "PID", 7, lambda r: str(r.process.pid), lambda r: r.process.pid),
            Column(
                "comm",
                "COMM",
                15,
                lambda r: r.process.comm,
                lambda r: r.process.comm,
                numeric=False,
            ),
            Column(
                "user", "USER", 8, lambda r: r.process.user, lambda r: r.process.user, numeric=False
            ),
            Column("rate", "RATE/s", 7, lambda r: compact(r.call.rate), lambda r: r.call.rate),
            Column(
                "errors",
                "ERRORS",
                6,
                lambda r: _errors_cell(
                    r.call.errors, compact(r.call.errors) if r.call.errors else ""
                ),
                lambda r: r.call.errors,
            ),
            Column(
                "avg",
                "AVG",
                7,
                lambda r: duration(r.call.latency.avg_ns),
                lambda r: r.call.latency.avg_ns or 0,
            ),
            Column(
                "p99",
                "P99",
                7,
                lambda r: duration(r.call.latency.p99_ns),
                lambda r: r.call.latency.p99_ns or 0,
            ),
        ]
        super().__init__(columns, row_key=lambda r: str(r.process.pid), sort_key="rate", id=id)
