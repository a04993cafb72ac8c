"""A light table on Textual's Line API: rows keyed, sorted by a column, cursor follows its key.

DataTable re-renders every visible cell through Rich whenever any cell changes; at one update
a second that alone cost the idle dashboard ~4% of a CPU. Here each row becomes one Strip,
cached until one of its cells changes, so an interval costs a few string joins per row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from typing import Any, ClassVar, Generic, TypeVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

RowT = TypeVar("RowT")
Cell = tuple[str, str]  # (text, rich style) — text is shown literally, never as markup


@dataclass(frozen=True, slots=True)
class Column(Generic[RowT]):
    """One table column: how to show a row in it and how to sort by it."""

    key: str
    label: str
    width: int
    render: Callable[[RowT], str | Cell]
    sort_value: Callable[[RowT], Any]
    numeric: bool = True
    grow: int = 0  # how many more cells it takes when the pane has room (paths, names)
    # Drawn for the width it gets (a trend shows more intervals when it grows); else `render`.
    render_sized: Callable[[RowT, int], Cell] | None = None


@lru_cache(maxsize=256)
def _style(spec: str) -> Style:
    return Style.parse(spec) if spec else Style()


def _tie_order(key: str) -> tuple[int, int, str]:
    """Order equal rows by their key: numbers as numbers (17 before 158), then text."""
    return (0, int(key), "") if key.isdigit() else (1, 0, key)


def _fit(text: str, width: int, right: bool) -> str:
    """Pad or cut `text` to exactly `width` cells, right- or left-justified."""
    if cell_len(text) > width:
        return set_cell_size(text[: width - 1], width - 1) + "…" if width > 1 else text[:width]
    padding = " " * (width - cell_len(text))
    return padding + text if right else text + padding


MIN_CUT_WIDTH = 8  # a text column narrower than this, cut, would tell nothing


class KeyedTable(ScrollView, Generic[RowT], can_focus=True):
    """Rows identified by a key, sorted by a chosen column, with a cursor that follows its key."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "keyed-table--header",
        "keyed-table--cursor",
        "keyed-table--cursor-blurred",
    }
    DEFAULT_CSS = """
    KeyedTable > .keyed-table--header { text-style: bold; background: $panel; }
    KeyedTable > .keyed-table--cursor { background: $accent; color: $text; text-style: bold; }
    KeyedTable > .keyed-table--cursor-blurred { background: $panel-lighten-1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "cursor_to(0)", "First", show=False),
        Binding("end", "cursor_to(-1)", "Last", show=False),
        Binding("enter", "select", "Open", show=False),
        Binding("s", "next_sort", "Sort"),
        Binding("greater_than_sign", "next_sort", "Sort >", show=False),
        Binding("less_than_sign", "previous_sort", "Sort <", show=False),
        Binding("r", "reverse_sort", "Reverse", show=False),
        Binding("F", "toggle_follow", "Follow", show=False),
    ]

    class RowHighlighted(Message):
        """The cursor moved to another row."""

        def __init__(self, table: KeyedTable[Any]) -> None:
            super().__init__()
            self.table = table

        @property
        def control(self) -> KeyedTable[Any]:
            """Return the table, so handlers can use CSS selectors."""
            return self.table

    class RowSelected(RowHighlighted):
        """Enter (or a click) chose the row under the cursor."""

    def __init__(
        self,
        columns: Sequence[Column[RowT]],
        row_key: Callable[[RowT], str],
        sort_key: str,
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.columns_spec = list(columns)
        self.all_columns = tuple(columns)  # what the column chooser offers
        self.row_key_of = row_key
        self.sort_key = sort_key
        self.sort_descending = True
        self.cursor_row = 0
        self.follow = False
        # A row the user moved to stays chosen while it re-sorts (Enter a moment later opens
        # it, not what slid under the cursor); untouched, or after Home, the cursor stays on
        # the top row, the busiest.
        self._chosen = False
        self._rows: dict[str, RowT] = {}
        self._order: list[str] = []
        self._cells: dict[str, tuple[Cell, ...]] = {}
        self._strips: dict[tuple[object, ...], Strip] = {}
        # Computing a widget's Rich style walks its CSS; do it once per style change, not per line.
        self._styles: dict[str, Style] = {}
        # Room for the label and the sort arrow, whatever the column asked for.
        self._widths: list[int] = []
        self._line_width = 0
        self._edges: list[int] = []
        self._pane_title = ""
        self._layout()

    def _layout(self) -> None:
        """Give each column its width: room for label and sort arrow, and on a wide pane the
        spare cells to the columns that grow (paths, groups), so wide terminals show more."""
        widths = [max(column.width, len(column.label) + 1) for column in self.columns_spec]
        spare = max(0, self.size.width - sum(width + 2 for width in widths))
        # Shared in proportion to what each asks (so a long COMM leaves the trend its part),
        # then what rounding left over, in column order.
        asked = sum(column.grow for column in self.columns_spec)
        extras = [min(c.grow, spare * c.grow // asked) if asked else 0 for c in self.columns_spec]
        left = spare - sum(extras)
        for index, column in enumerate(self.columns_spec):
            more = max(0, min(column.grow - extras[index], left))
            extras[index] += more
            left -= more
            widths[index] += extras[index]
        # A text column (a path, a name) that crosses the edge is cut to fit, with "…": its
        # first cells still tell. Numbers are never cut: a column of them left blank instead.
        edge = 0
        for index, column in enumerate(self.columns_spec):
            room = self.size.width - edge - 2
            if edge + widths[index] + 2 > self.size.width:
                if not column.numeric and room >= MIN_CUT_WIDTH:
                    widths[index] = room
                break
            edge += widths[index] + 2
        redraw = widths != self._widths
        self._widths = widths
        if redraw:  # sized cells (trends) are drawn for their width: draw them again
            self._cells = {key: self._render_cells(self._rows[key]) for key in self._order}
        self._line_width = sum(width + 2 for width in widths)
        self._edges = list(accumulate(width + 2 for width in widths))  # where each column ends
        self._strips = {}
        self.virtual_size = Size(self._line_width, len(self._order) + 1)

    def on_resize(self) -> None:
        self._layout()
        self._show_position()
        self.refresh()

    @property
    def pane_title(self) -> str:
        """Return the pane's name, as its screen set it (without the position)."""
        return self._pane_title

    @pane_title.setter
    def pane_title(self, title: str) -> None:
        self._pane_title = title
        self._show_position()

    def _show_position(self) -> None:
        """Say which rows are in view when they do not all fit: the title carries what a
        scrollbar would (a 1-cell thumb is drawn with the sparkline's glyphs, ▄ at the edge)."""
        shown = self.size.height - 1  # below the header line
        total = len(self._order)
        position = ""
        if 0 < shown < total:
            first = min(self.scroll_offset.y, total - shown) + 1
            position = f" {first}–{first + shown - 1} of {total}"
        title = self._pane_title + position
        if title != self.border_title:  # each set repaints the border: only on a change
            self.border_title = title

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._show_position()

    # -- data --------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        """Return how many rows are shown."""
        return len(self._order)

    @property
    def selected_key(self) -> str | None:
        """Return the key of the row under the cursor."""
        if 0 <= self.cursor_row < len(self._order):
            return self._order[self.cursor_row]
        return None

    @property
    def selected_row(self) -> RowT | None:
        """Return the row under the cursor."""
        key = self.selected_key
        return self._rows.get(key) if key is not None else None

    def configure(self, sort_key: str | None, hidden: tuple[str, ...]) -> None:
        """Apply lasting settings: a sort column (if this table has it), columns left out."""
        kept = [c for c in self.all_columns if c.key not in hidden or c.key == self.sort_key]
        if kept != self.columns_spec:
            self.columns_spec = kept
            self._layout()
            self._cells = {}
        if sort_key is not None and any(c.key == sort_key for c in self.columns_spec):
            self.sort_key = sort_key

    def select_key(self, key: str) -> bool:
        """Put the cursor on the row with `key`; return False when there is none."""
        if key not in self._rows:
            return False
        self._move_cursor(self._order.index(key))
        self._chosen = True
        return True

    def rows_in_order(self) -> list[RowT]:
        """Return the rows as shown, top to bottom."""
        return [self._rows[key] for key in self._order]

    def _render_cells(self, row: RowT) -> tuple[Cell, ...]:
        cells: list[Cell] = []
        for column, width in zip(self.columns_spec, self._widths, strict=True):
            sized = column.render_sized
            value = sized(row, width) if sized is not None else column.render(row)
            cells.append(value if isinstance(value, tuple) else (value, ""))
        return tuple(cells)

    def _sorted_keys(self, rows: dict[str, RowT]) -> list[str]:
        column = next(c for c in self.columns_spec if c.key == self.sort_key)
        keys = sorted(rows, key=lambda k: (column.sort_value(rows[k]), _tie_order(k)))
        return keys[::-1] if self.sort_descending else keys

    def show(self, rows: Sequence[RowT]) -> None:
        """Display `rows`, sorted. A row the user moved to stays under the cursor while it
        exists; untouched, the cursor keeps the top row (the busiest); in follow mode (F, as
        htop's) even the top row's key is followed."""
        selected = self.selected_key
        by_key = {self.row_key_of(row): row for row in rows}
        order = self._sorted_keys(by_key)
        cells = {key: self._render_cells(by_key[key]) for key in order}
        changed = order != self._order or cells != self._cells
        self._rows, self._order, self._cells = by_key, order, cells
        if (self.follow or self._chosen) and selected is not None and selected in by_key:
            cursor = order.index(selected)
        else:
            self._chosen = False
            cursor = min(self.cursor_row, len(order) - 1)
        self.virtual_size = Size(self._line_width, len(order) + 1)
        self._show_position()
        if changed or cursor != self.cursor_row:
            self._move_cursor(max(cursor, 0), announce=cursor != self.cursor_row)
            self.refresh()

    # -- drawing -----------------------------------------------------------------------------

    def _header_cells(self) -> tuple[Cell, ...]:
        cells: list[Cell] = []
        for column in self.columns_spec:
            arrow = ("▼" if self.sort_descending else "▲") if column.key == self.sort_key else ""
            cells.append((column.label + arrow, ""))
        return tuple(cells)

    def _strip(self, cells: tuple[Cell, ...], base: Style, plain: bool = False) -> Strip:
        segments = [
            Segment(
                " " + _fit(text, width, column.numeric) + " ",
                base + (_style(style).without_color if plain else _style(style)),
            )
            for column, width, (text, style) in zip(
                self.columns_spec, self._widths, cells, strict=True
            )
        ]
        return Strip(segments, self._line_width)

    def _cached_style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self.rich_style if name == "" else self.get_component_rich_style(name)
            self._styles[name] = style
        return style

    def notify_style_update(self) -> None:
        self._styles.clear()
        super().notify_style_update()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self._cached_style("")
        if y == 0:
            header = self._cached_style("keyed-table--header")
            strip = self._strip(self._header_cells(), base + header)
        else:
            index = scroll_y + y - 1
            if index >= len(self._order):
                return Strip.blank(width, base)
            key = self._order[index]
            on_cursor = index == self.cursor_row
            if on_cursor:
                name = "keyed-table--cursor" if self.has_focus else "keyed-table--cursor-blurred"
                style = base + self._cached_style(name)
            else:
                style = base
            cache_key = (key, self._cells[key], style)
            strip = self._strips.get(cache_key)  # type: ignore[assignment]
            if strip is None:
                # On the cursor's background, cell colours (red errors, flags) would clash:
                # the cursor row takes the cursor's colours; the marks (!, *) stay in the text.
                strip = self._strip(self._cells[key], style, plain=on_cursor)
                if len(self._strips) > 4096:
                    self._strips.clear()
                self._strips[cache_key] = strip
        # A column that does not fit whole is left blank, not cut: "SHA" over "8" of 89.3
        # reads as a share of 8%.
        end = scroll_x + width
        whole = max((edge for edge in self._edges if edge <= end), default=0)
        return strip.crop_extend(scroll_x, max(whole, scroll_x), base).extend_cell_length(
            width, base
        )

    def on_focus(self) -> None:
        self._styles.clear()
        self.refresh()

    def on_blur(self) -> None:
        self._styles.clear()
        self.refresh()

    # -- cursor and keys ---------------------------------------------------------------------

    def _move_cursor(self, row: int, announce: bool = True) -> None:
        row = max(0, min(row, len(self._order) - 1))
        moved = row != self.cursor_row
        self.cursor_row = row
        # Keep the cursor line in view below the fixed header line.
        self.scroll_to_region(Region(0, row + 1, 1, 1), spacing=None, animate=False, immediate=True)
        if self.scroll_offset.y > row:
            self.scroll_to(y=row, animate=False, immediate=True)
        if moved or announce:
            self.refresh()
            self.post_message(self.RowHighlighted(self))

    def action_cursor(self, step: int) -> None:
        """Move the cursor by `step` rows (that row is then chosen)."""
        self._move_cursor(self.cursor_row + step)
        self._chosen = self.cursor_row > 0

    def action_page(self, direction: int) -> None:
        """Move the cursor by one screenful."""
        self._move_cursor(self.cursor_row + direction * max(self.size.height - 2, 1))
        self._chosen = self.cursor_row > 0

    def action_cursor_to(self, row: int) -> None:
        """Move the cursor to the first (0: back to following the top) or last (-1) row."""
        self._move_cursor(row if row >= 0 else len(self._order) - 1)
        self._chosen = row != 0

    def action_select(self) -> None:
        """Announce the row under the cursor as chosen."""
        if self.selected_key is not None:
            self.post_message(self.RowSelected(self))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            x = offset.x + self.scroll_offset.x
            for column, width in zip(self.columns_spec, self._widths, strict=True):
                if x < width + 2:
                    self.set_sort(column.key)
                    return
                x -= width + 2
            return
        index = self.scroll_offset.y + offset.y - 1
        if index < len(self._order):
            if index == self.cursor_row and event.chain >= 2:
                self.action_select()
            self._move_cursor(index)
            self._chosen = index > 0

    # -- sorting -----------------------------------------------------------------------------

    def set_sort(self, column_key: str, descending: bool | None = None) -> None:
        """Sort by a column (toggling direction when it is already the sort column)."""
        if descending is None:
            descending = not self.sort_descending if column_key == self.sort_key else True
        self.sort_key, self.sort_descending = column_key, descending
        self.show(list(self._rows.values()))
        if not self.follow:
            # A new order starts at its top: the busiest rows are what a re-sort is for.
            self._move_cursor(0)
            self.scroll_to(y=0, animate=False, immediate=True)
        self.refresh()

    def action_toggle_follow(self) -> None:
        """Follow the selected row as rows re-sort (F), or keep the cursor's place (default)."""
        self.follow = not self.follow
        self.notify(
            "following the selected row" if self.follow else "cursor keeps its place",
            timeout=2,
        )

    def _step_sort(self, step: int) -> None:
        keys = [column.key for column in self.columns_spec]
        self.set_sort(keys[(keys.index(self.sort_key) + step) % len(keys)], descending=True)

    def action_next_sort(self) -> None:
        """Sort by the next column."""
        self._step_sort(1)

    def action_previous_sort(self) -> None:
        """Sort by the previous column."""
        self._step_sort(-1)

    def action_reverse_sort(self) -> None:
        """Reverse the sort direction."""
        self.set_sort(self.sort_key, not self.sort_descending)
