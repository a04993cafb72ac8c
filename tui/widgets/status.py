"""The status header: where, what source, how fast, and what was lost."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tui.model.view import Frame, breadcrumb, view_note
from tui.widgets.format import compact


class StatusBar(Static):
    """One or two lines of status; loss and pause stand out."""

    plain = ""
    _shown: Text | None = None

    def show(self, frame: Frame) -> None:
        """Redraw the status lines."""
        facts, snapshot, own_cpu_pct = frame.facts, frame.snapshot, frame.own_cpu_pct
        interval_s, paused, note = frame.view.interval_s, frame.view.paused, view_note(frame.view)
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(" syscalltop ", style="bold reverse")
        if paused:
            line.append(" PAUSED ", style="bold reverse orange4")
        # What matters first: at 80 columns the end of the line is what gets cut.
        if snapshot is not None:
            totals = snapshot.totals
            line.append(f" {compact(totals.rate)} calls/s ", style="bold")
            line.append(
                f"{compact(totals.error_rate)} err/s ",
                style="bold red" if totals.errors else "",
            )
            if snapshot.active_incidents:
                count = snapshot.active_incidents
                word = "incident" if count == 1 else "incidents"
                line.append(f"! {count} {word}", style="bold reverse orange4")
                line.append(" ")
            lost = totals.loss.lost_samples
            if lost:
                line.append(f"lost {compact(lost)}", style="bold reverse red")
                line.append(" ")
            dropped = totals.loss.proc_map_full + totals.loss.errno_map_full
            if dropped:
                line.append(f"dropped {compact(dropped)}", style="bold reverse red")
                line.append(" ")
        line.append(f"| {facts.source} every {interval_s:g}s ", style="dim")
        if facts.tier == "counts":
            line.append("counts tier (no latency) ", style="dim")
        else:
            sample = f"1/{facts.sample_every}" if facts.sample_every > 0 else "off"
            line.append(f"sample {sample} ", style="dim")
        if (
            snapshot is not None
            and not snapshot.totals.loss.lost_samples
            and facts.tier != "counts"
        ):
            line.append("lost 0 ", style="dim")  # the counts tier sends no events to lose
        if own_cpu_pct is not None:
            line.append(f"self {own_cpu_pct:.1f}% cpu ", style="dim")
        second = Text(no_wrap=True, overflow="ellipsis", style="dim")
        second.append(f" {breadcrumb(frame.view, frame.names)}", style="bold")
        if note:
            second.append(f" | view: {note}")
        second.append(
            f" | filter: {facts.filters} | {facts.host} {facts.kernel} {facts.cpus or '?'}cpu"
        )
        if facts.headers:
            second.append(f" | {facts.headers}")
        content = Text("\n", no_wrap=True, overflow="ellipsis").join([line, second])
        if content != self._shown:
            self._shown = content
            self.plain = content.plain
            # Two lines high, whatever they say (styles/app.tcss): no layout pass for new text.
            self.update(content, layout=False)
