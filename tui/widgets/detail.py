"""The detail pane: everything known about the selected syscall, as plain text."""

from __future__ import annotations

from datetime import datetime, timezone

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from tui.model.histogram import bucket_bounds_ns
from tui.model.snapshot import SampleRow, Snapshot, SyscallRow
from tui.widgets.format import bar, compact, duration

HIST_BAR_WIDTH = 18


def _fmt_arg(value: int) -> str:
    return f"{value:#x}" if value > 0xFFFF else str(value)


def sample_line(sample: SampleRow) -> Text:
    """Return one sampled call as `time comm pid name(args) = ret ERRNO duration`."""
    stamp = datetime.fromtimestamp(sample.exit_ns / 1e9, tz=timezone.utc).strftime("%S.%f")[:-3]
    result = f"{sample.ret}" + (f" {sample.errno}" if sample.errno else "")
    args = ", ".join(_fmt_arg(value) for value in sample.args[:3])
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(f"{stamp} ", style="dim")
    line.append(f"{sample.comm}[{sample.pid}] ")
    line.append(f"{sample.name}({args}, …)")
    line.append(f" = {result}", style="bold red" if sample.errno else "")
    line.append(f" {duration(sample.duration_ns)}", style="dim")
    return line


def histogram_table(row: SyscallRow) -> Table | Text:
    """Return the interval's log2 latency histogram as labelled bars."""
    used = [bucket for bucket, count in enumerate(row.hist) if count]
    if not used:
        return Text("no timed calls this interval", style="dim")
    table = Table.grid(padding=(0, 1))
    table.add_column(justify="right", no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    largest = max(row.hist)
    for bucket in range(used[0], used[-1] + 1):
        low, _ = bucket_bounds_ns(bucket)
        count = row.hist[bucket]
        table.add_row(
            f"≥{duration(low)}",
            Text(bar(count, largest, HIST_BAR_WIDTH), style="cyan"),
            compact(count),
        )
    return table


def detail_renderable(
    row: SyscallRow | None, snapshot: Snapshot | None, description: str | None, compact_view: bool
) -> RenderableType:
    """Return the pane's content for a syscall row (or a hint when nothing is selected)."""
    if row is None or snapshot is None:
        return Text("Select a syscall to see its errors, latency and callers.", style="dim")
    title = Text(no_wrap=True)
    title.append(row.label, style="bold")
    title.append(" ")
    title.append(f"· nr {row.nr}" if row.nr >= 0 else "· out-of-table id", style="dim")
    parts: list[RenderableType] = [title]
    if description:
        parts.append(Text(description, style="italic", no_wrap=True, overflow="ellipsis"))
    parts.append(
        Text(
            f"{compact(row.rate)}/s  share {row.share:.1f}%  "
            f"interval {compact(row.count)}  total {compact(row.total)}",
            no_wrap=True,
        )
    )
    errors = Text(no_wrap=True, overflow="ellipsis")
    if row.errors_total:
        errors.append(
            f"errors {compact(row.error_rate)}/s ({row.error_pct:.1f}%) ", style="bold red"
        )
        shown = row.errnos or row.errnos_total
        errors.append("  ".join(f"{name} {compact(count)}" for name, count in shown[:4]))
    else:
        errors.append("no errors", style="dim")
    parts.append(errors)
    latency = row.latency
    parts.append(
        Text(
            f"avg {duration(latency.avg_ns)} p50 {duration(latency.p50_ns)} "
            f"p95 {duration(latency.p95_ns)} p99 {duration(latency.p99_ns)} "
            f"max {duration(latency.max_ns)}",
            no_wrap=True,
        )
    )
    if compact_view:
        return Group(*parts)
    parts.append(Text("percentiles are log2-bucket bounds", style="dim"))
    parts.append(Text("\nlatency (this interval)", style="bold"))
    parts.append(histogram_table(row))
    callers = snapshot.callers(row.slot)[:5]
    parts.append(Text("\ntop callers", style="bold"))
    if callers:
        for process, call in callers:
            line = Text(no_wrap=True, overflow="ellipsis")
            line.append(f"{process.pid:>7} ")
            line.append(f"{process.comm:<15} ")
            line.append(f"{compact(call.rate):>6}/s")
            if call.errors:
                line.append(f"  {compact(call.errors)} failed", style="bold red")
            parts.append(line)
    else:
        parts.append(Text("none this interval", style="dim"))
    samples = [sample for sample in snapshot.samples if sample.slot == row.slot][-5:]
    parts.append(Text("\nrecent sampled calls", style="bold"))
    if samples:
        parts.extend(sample_line(sample) for sample in reversed(samples))
    else:
        parts.append(Text("none sampled yet", style="dim"))
    return Group(*parts)


class SyscallDetail(Static, can_focus=True):
    """Shows one syscall in depth; compact on small terminals."""

    def show(
        self,
        row: SyscallRow | None,
        snapshot: Snapshot | None,
        description: str | None,
        compact_view: bool,
    ) -> None:
        """Display the given syscall."""
        self.update(detail_renderable(row, snapshot, description, compact_view))
