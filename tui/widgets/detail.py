"""The detail pane: everything known about the selected syscall, as plain text."""

from __future__ import annotations

from datetime import datetime, timezone

from rich.text import Text
from textual.widgets import Static

from tui.model.histogram import bucket_bounds_ns
from tui.model.names import KERNEL_INTERNAL_ERRNOS
from tui.model.snapshot import SampleRow, Snapshot, SyscallRow, TargetRow
from tui.widgets.format import bar, compact, duration

HIST_BAR_WIDTH = 18


KERNEL_ONLY = frozenset(KERNEL_INTERNAL_ERRNOS.values())


def _fmt_arg(value: int) -> str:
    return f"{value:#x}" if value > 0xFFFF else str(value)


def sample_line(sample: SampleRow) -> Text:
    """Return one sampled or captured call: `comm[pid] name(decoded args) = ret ERRNO time`."""
    line = Text()
    line.append(f"{sample.comm}[{sample.pid}] ")
    if sample.call:
        head, _, result = sample.call.rpartition(" = ")
        line.append(head)
    else:  # made before calls were decoded
        stamp = datetime.fromtimestamp(sample.exit_ns / 1e9, tz=timezone.utc)
        line.append(stamp.strftime("%S.%f")[:-3] + " ", style="dim")
        args = ", ".join(_fmt_arg(value) for value in sample.args[:3])
        line.append(f"{sample.name}({args}, …)")
        result = f"{sample.ret}" + (f" {sample.errno}" if sample.errno else "")
    line.append(f" = {result}", style="bold red" if sample.errno else "")
    line.append(f" {duration(sample.duration_ns)}", style="dim")
    if sample.reasons & ~1:
        line.append(f" ({sample.why})", style="dim")
    return line


def capture_line(row: SyscallRow) -> Text | None:
    """Return `captured 50 of 388 failures` when any failed this interval."""
    failed = row.failures_captured + row.failures_suppressed
    if not failed:
        return None
    line = Text(f"captured {compact(row.failures_captured)} of {compact(failed)} failures")
    if row.failures_suppressed:
        line.append("  (the rest suppressed by the capture budget)", style="dim")
    return line


def target_lines(targets: list[TargetRow], limit: int) -> list[Text]:
    """Return failing targets as `ENOENT x3 /etc/x  nginx[42]` (with a times sign)."""
    lines = []
    for target in targets[:limit]:
        line = Text()
        line.append(f"{target.errno} ×{compact(target.count)} ", style="bold red")
        line.append(target.target)
        line.append(f"  {target.comm}[{target.pid}]", style="dim")
        lines.append(line)
    return lines


def histogram_lines(row: SyscallRow) -> list[Text]:
    """Return the interval's log2 latency histogram as labelled bars, one Text per bucket."""
    used = [bucket for bucket, count in enumerate(row.hist) if count]
    if not used:
        return [Text("no timed calls this interval", style="dim")]
    largest = max(row.hist)
    lines: list[Text] = []
    previous: int | None = None
    for bucket in used:
        if previous is not None and bucket > previous + 1:
            # Empty buckets between two used ones: one line, so callers stay on screen.
            lines.append(Text(f"{'…':>8} {'':<{HIST_BAR_WIDTH}} {'0':>6}", style="dim"))
        low, _ = bucket_bounds_ns(bucket)
        count = row.hist[bucket]
        line = Text(f"{'≥' + duration(low):>8} ")
        line.append(f"{bar(count, largest, HIST_BAR_WIDTH):<{HIST_BAR_WIDTH}}", style="cyan")
        line.append(f" {compact(count):>6}")
        lines.append(line)
        previous = bucket
    return lines


SHADES = " ░▒▓█"


def heatmap_lines(history: tuple[tuple[int, ...], ...]) -> list[Text]:
    """Return latency over time: a row per log2 bucket (slowest on top), a column per
    interval (newest right), shaded by how many calls landed there."""
    used = sorted({b for hist in history for b, count in enumerate(hist) if count})
    if not used:
        return [Text("no timed calls in the window", style="dim")]
    largest = max(count for hist in history for count in hist)
    lines = []
    for bucket in range(used[-1], used[0] - 1, -1):
        low, _ = bucket_bounds_ns(bucket)
        line = Text(f"{'≥' + duration(low):>8} ")
        cells = ""
        for hist in history:
            count = hist[bucket] if bucket < len(hist) else 0
            level = 0 if not count else 1 + (len(SHADES) - 2) * count // largest
            cells += SHADES[min(level, len(SHADES) - 1)]
        line.append(cells, style="cyan")
        lines.append(line)
    lines.append(Text(f"{'':>8} {'oldest':<{max(len(history) - 6, 0)}}now", style="dim"))
    return lines


def detail_renderable(
    row: SyscallRow | None,
    snapshot: Snapshot | None,
    description: str | None,
    compact_view: bool,
    timed: bool = True,
) -> Text:
    """Return the pane's content for a syscall row (or a hint when nothing is selected)."""
    if row is None or snapshot is None:
        return Text("Select a syscall to see its errors, latency and callers.", style="dim")
    title = Text()
    title.append(row.label, style="bold")
    title.append(" ")
    title.append(f"· nr {row.nr}" if row.nr >= 0 else "· out-of-table id", style="dim")
    parts: list[Text] = [title]
    if description:
        parts.append(Text(description, style="italic"))
    parts.append(
        Text(
            f"{compact(row.rate)}/s  share {row.share:.1f}%  "
            f"interval {compact(row.count)}  total {compact(row.total)}"
        )
    )
    errors = Text()
    if row.errors:
        errors.append(
            f"errors {compact(row.error_rate)}/s ({row.error_pct:.1f}%) ", style="bold red"
        )
        errors.append("  ".join(f"{name} {compact(count)}" for name, count in row.errnos[:4]))
    elif row.errors_total:
        # Nothing failed this interval: say the counts are since start, not now.
        errors.append("no errors this interval; since start ", style="dim")
        errors.append("  ".join(f"{name} {compact(n)}" for name, n in row.errnos_total[:4]))
    else:
        errors.append("no errors", style="dim")
    parts.append(errors)
    captured = capture_line(row)
    if captured is not None:
        parts.append(captured)
    targets = snapshot.targets_of(slot=row.slot)
    if compact_view and targets:
        parts.extend(target_lines(targets, 1))
    internal = [name for name, _ in (row.errnos or row.errnos_total) if name in KERNEL_ONLY]
    if internal:
        parts.append(
            Text(
                f"{', '.join(internal)}: kernel-internal (the call is restarted or turned into "
                "EINTR; the process never sees it)",
                style="dim",
            )
        )
    latency = row.latency
    has_latency = timed and row.slot not in snapshot.unhistogrammed
    if not timed:
        parts.append(Text("no latency in the counts tier (--level full measures it)", style="dim"))
    elif row.slot in snapshot.unhistogrammed:
        parts.append(
            Text(
                "no latency: every --hist-rows row was taken before its first call "
                "(a larger --hist-rows gives it one)",
                style="dim",
            )
        )
    else:
        parts.append(
            Text(
                f"avg {duration(latency.avg_ns)} p50 {duration(latency.p50_ns)} "
                f"p95 {duration(latency.p95_ns)} p99 {duration(latency.p99_ns)} "
                f"max {duration(latency.max_ns)}"
            )
        )
    if not compact_view:
        if has_latency:
            precision = (
                "percentiles within 6.25% (log-linear buckets)"
                if latency.fine
                else "percentiles are log2-bucket bounds (within x2)"
            )
            parts.append(Text(precision, style="dim"))
            parts.append(Text("\nlatency (this interval)", style="bold"))
            parts.extend(histogram_lines(row))
        parts.append(Text("\ntop callers", style="bold"))
        callers = snapshot.callers(row.slot)[:5]
        for process, call in callers:
            line = Text(f"{process.pid:>7} {process.comm:<15} {compact(call.rate):>6}/s")
            if call.errors:
                line.append(f"  {compact(call.errors)} failed", style="bold red")
            parts.append(line)
        if not callers:
            parts.append(Text("none this interval", style="dim"))
        if targets:
            parts.append(Text("\ntop failing targets", style="bold"))
            parts.extend(target_lines(targets, 5))
        slowest = [call for call in snapshot.slowest if call.slot == row.slot][:3]
        if slowest:
            parts.append(Text("\nslowest calls", style="bold"))
            parts.extend(sample_line(call) for call in slowest)
        samples = [sample for sample in snapshot.samples if sample.slot == row.slot][-5:]
        parts.append(Text("\nrecent calls (sampled and captured, oldest first)", style="bold"))
        parts.extend(sample_line(sample) for sample in samples)
        if not samples:
            parts.append(Text("none sampled yet", style="dim"))
    # One Text (not a Group of tables) renders several times faster, every interval. Long
    # lines (decoded calls) wrap rather than lose their end.
    return Text("\n", overflow="fold").join(parts)


class SyscallDetail(Static, can_focus=True):
    """Shows one syscall in depth; compact on small terminals."""

    _shown: Text | None = None

    def show(
        self,
        row: SyscallRow | None,
        snapshot: Snapshot | None,
        description: str | None,
        compact_view: bool,
        timed: bool = True,
    ) -> None:
        """Display the given syscall (redrawing only when the text changed)."""
        content = detail_renderable(row, snapshot, description, compact_view, timed)
        if content != self._shown:
            self._shown = content
            self.update(content)
