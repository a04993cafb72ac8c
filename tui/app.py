"""The Textual app: life cycle and message plumbing between the collector, the view state and
the screens."""

from __future__ import annotations

import asyncio
import gc
import io
import os
import resource
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.driver import Driver
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input

from tui.collector import Collector
from tui.config import Config
from tui.errors import UsageError
from tui.export.saved_view import save_view
from tui.model.anomaly import AnomalySettings
from tui.model.names import SyscallNames
from tui.model.readings import RawReading
from tui.model.snapshot import DescribeProcess, Snapshot, SnapshotStream, kernel_identity
from tui.model.view import (
    FailuresToggled,
    Frame,
    IntervalChanged,
    LoggedAnomaly,
    PauseToggled,
    StatusFacts,
    View,
    ViewClosed,
    ViewEvent,
    ViewKind,
    ViewOpened,
    ViewState,
    fold,
    longer_interval,
    profile_target,
    shorter_interval,
)
from tui.paths import resource_dir
from tui.replay import ReplayController
from tui.safe_files import SafeFileError
from tui.screens.actions import TextScreen
from tui.screens.base import FrameScreen, ProcessAction, UserActed
from tui.screens.dashboard import DashboardScreen
from tui.screens.drilldown import ProcessScreen, SyscallScreen
from tui.screens.help import HelpScreen
from tui.screens.views import (
    AnomalyScreen,
    ErrorsScreen,
    GroupScreen,
    GroupsScreen,
    InflightScreen,
    TargetsScreen,
)
from tui.session import BackgroundStart, Session, default_facts, target_watch, write_seccomp_profile
from tui.signals import StopRequest
from tui.sources.base import Source
from tui.sources.recording import CapturingDescribe, Recorder, RecordingError, ReplaySource
from tui.system import TargetWatch
from tui.terminal import watch_terminal

if TYPE_CHECKING:  # only with --prometheus (prometheus_client costs 14 MB of RSS)
    from tui.export.prometheus import SyscallMetrics

ANOMALY_LOG_SIZE = 500
THEMES = {"dark": "textual-dark", "light": "textual-light"}


class SnapshotReady(Message):
    """A new interval is ready to show (the newest one wins when several queue up)."""


class RecordingStopped(Message):
    """The recording could not be written (a full disk); collection goes on."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class TargetExited(Message):
    """A -p/-t target exited (the dashboard stays, with its last numbers)."""

    def __init__(self, line: str) -> None:
        super().__init__()
        self.line = line


class SourceStarted(Message):
    """The live source opened in the background is attached (or failed to start)."""

    def __init__(self, error: BaseException | None) -> None:
        super().__init__()
        self.error = error


class SourceFailed(Message):
    """The collector stopped with an error."""

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error


def screen_for(view: View, frame: Frame) -> FrameScreen:
    """Return a new screen showing `view`."""
    if view.kind is ViewKind.SYSCALL:
        assert view.key is not None
        return SyscallScreen(frame, view.key)
    if view.kind is ViewKind.PROCESS:
        assert view.key is not None
        return ProcessScreen(frame, view.key)
    if view.kind is ViewKind.INFLIGHT:
        return InflightScreen(frame)
    if view.kind is ViewKind.ANOMALIES:
        return AnomalyScreen(frame)
    if view.kind is ViewKind.ERRORS:
        return ErrorsScreen(frame)
    if view.kind is ViewKind.GROUPS:
        return GroupsScreen(frame)
    if view.kind is ViewKind.GROUP:
        assert view.detail is not None
        return GroupScreen(frame, view.detail)
    if view.kind is ViewKind.TARGETS:
        assert view.key is not None and view.detail is not None
        return TargetsScreen(frame, view.key, view.detail)
    return DashboardScreen(frame)


LATENCY_COLUMNS = frozenset({"avg", "p99", "max"})
# The first live frame needs two readings: the first interval is this short, not a whole one.
FIRST_FRAME_S = 0.1  # the collector's shortest interval (MIN_INTERVAL_S)


class SyscallTopApp(App[int]):
    """Live syscall dashboard."""

    CSS_PATH = str(resource_dir("styles") / "app.tcss")
    TITLE = "syscalltop"
    BINDINGS = [
        # Footer order is what fits at 80 columns first: the views an incident needs.
        Binding("q", "quit_or_back", "Quit"),
        Binding("question_mark,f1", "help", "Help"),
        Binding("e", "errors", "Errors"),
        Binding("i", "inflight", "In flight"),
        Binding("a", "anomalies", "Anomalies"),
        Binding("c", "groups", "Containers"),
        Binding("x", "toggle_failures", "Failures"),
        Binding("p", "toggle_pause", "Pause"),
        Binding("plus,equals_sign", "slower", "+Interval", show=False),
        Binding("minus", "faster", "-Interval", show=False),
        Binding("t", "toggle_theme", "Theme", show=False),
        Binding("b", "reset_baseline", "Reset baseline", show=False),
        Binding("S", "save_view", "Save view", show=False),
        Binding("P", "seccomp_profile", "Seccomp profile", show=False),
        Binding("space", "replay_toggle", "Play/pause", show=False, priority=True),
        Binding("comma", "replay_step(-1)", "Step back", show=False, priority=True),
        Binding("full_stop", "replay_step(1)", "Step", show=False, priority=True),
        Binding("g", "replay_jump(0)", "Start", show=False, priority=True),
        Binding("G", "replay_jump(1)", "End", show=False, priority=True),
        Binding("f", "replay_speed", "Speed", show=False, priority=True),
    ]

    def __init__(
        self,
        config: Config,
        source: Source,
        names: SyscallNames,
        describe: DescribeProcess = kernel_identity,
        facts: StatusFacts | None = None,
        start_collector: bool = True,
        recorder: Recorder | None = None,
        driver_class: type[Driver] | None = None,
    ) -> None:
        # NO_COLOR: the terminal's own colours and then none at all (Textual's NoColor), not
        # its default greyscale filter, which still sent 256-colour codes and turned red error
        # numbers into grey on grey.
        super().__init__(
            driver_class=driver_class, ansi_color=True if "NO_COLOR" in os.environ else None
        )
        self.recorder = recorder
        self.metrics: SyscallMetrics | None = None
        self.replay: ReplayController | None = None
        self.capture = CapturingDescribe(describe)
        self.config = config
        self.source = source
        self.names = names
        self.stream = self._new_stream()
        self.anomaly_log: deque[LoggedAnomaly] = deque(maxlen=ANOMALY_LOG_SIZE)
        self.facts = facts or default_facts(config, source)
        self._facts_given = facts is not None
        self.start_collector = start_collector
        live = not isinstance(source, ReplaySource) and not config.show_self
        self.view = ViewState(
            interval_s=config.interval_s,
            own_pid=os.getpid() if live else None,
            # The counts tier measures no latency: its columns would only show dashes.
            hidden_columns=frozenset(config.hidden_columns)
            | (frozenset() if config.timed else LATENCY_COLUMNS),
        )
        self.snapshot: Snapshot | None = None
        self.shown_snapshot: Snapshot | None = None
        self.own_cpu_pct: float | None = None
        self.collector: Collector | None = None
        self._latest_lock = threading.Lock()
        self._latest: tuple[Snapshot, float | None] | None = None
        self._cpu_mark = (time.monotonic(), _cpu_seconds())
        self.theme = THEMES.get(config.theme, "textual-dark")
        self.stop: StopRequest | None = None
        self.recording_error: str | None = None
        self.targets: TargetWatch | None = None
        self.first_reading: RawReading | None = None
        self.session: Session | None = None
        self.start_error: BaseException | None = None

    def _new_stream(self) -> SnapshotStream:
        return SnapshotStream(
            self.names,
            self.capture,
            AnomalySettings(deviations=self.config.anomaly_sensitivity),
            getattr(self.source, "prototypes", None),
        )

    @property
    def interval_s(self) -> float:
        """Return the interval in force."""
        return self.view.interval_s

    # -- life cycle ------------------------------------------------------------------------

    def on_mount(self) -> None:
        if self.stop is not None:
            # Signals reach the event loop through its wake-up pipe, and leave through exit().
            loop = asyncio.get_running_loop()
            for signum in self.stop.installed:
                loop.add_signal_handler(signum, self._stopped_by_signal, signum)
            if self.stop.signum is not None:
                self._stopped_by_signal(self.stop.signum)
        self.push_screen(DashboardScreen(self.frame()))
        if self.start_collector and isinstance(self.source, ReplaySource):
            self.replay = ReplayController(
                self.source, self.names, AnomalySettings(self.config.anomaly_sensitivity)
            )
            self.apply_snapshot(self.replay.at(1), None)
            self._replay_timer = self.set_interval(
                self.source.interval_s, self._replay_tick, pause=False
            )
            return
        if self.start_collector:
            starting = self.session.starting if self.session is not None else None
            if starting is None:
                self._start_collecting()
            else:
                threading.Thread(
                    target=self._await_start, args=(starting,), name="await-start", daemon=True
                ).start()

    def _await_start(self, starting: BackgroundStart) -> None:
        """Runs on a thread: wait for the source's compile and attach, then tell the app."""
        starting.join()
        self.post_message(SourceStarted(starting.error))

    def on_source_started(self, message: SourceStarted) -> None:
        if message.error is not None:
            # Raised again once the terminal is restored: the CLI says a UsageError in one
            # line with its exit code, as in the other modes.
            self.start_error = message.error
            code = message.error.code if isinstance(message.error, UsageError) else 1
            self.exit(return_code=code)
            return
        gc.freeze()  # the BPF tables and what else the start built, as the CLI does before
        # What the start learnt: the kernel's prototypes, the headers in use.
        self.stream = self._new_stream()
        if not self._facts_given:
            self.facts = default_facts(self.config, self.source)
        self._start_collecting()
        self._redraw()

    def _start_collecting(self) -> None:
        self.collector = Collector(
            self.source,
            self.interval_s,
            self._reading_arrived,
            self._collector_failed,
            first_interval_s=FIRST_FRAME_S,
        )
        self.collector.start()

    def _stopped_by_signal(self, signum: int) -> None:
        assert self.stop is not None
        self.stop.signum = self.stop.signum or signum
        self.exit(return_code=128 + signum)

    def on_resize(self, event: events.Resize) -> None:
        # Rich asks the terminal for its size (an ioctl) on every cell DataTable measures;
        # pinning the console to the size Textual already knows makes that free.
        self.console.size = (event.size.width, event.size.height)

    def on_unmount(self) -> None:
        if self.collector is not None:
            self.collector.stop()

    # -- replay ----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Replay keys only act during a replay."""
        if not action.startswith("replay_"):
            return True
        # Replay keys are priority bindings: leave them to the / filter while typing there.
        return self.replay is not None and not isinstance(self.focused, Input)

    def _replay_tick(self) -> None:
        replay = self.replay
        if replay is None or not replay.playing:
            return
        if replay.position >= replay.last:
            replay.playing = False
            self._redraw()
            return
        self.apply_snapshot(replay.go(replay.position + 1), None)

    def _replay_show(self, position: int) -> None:
        assert self.replay is not None
        snapshot = self.replay.go(position)
        self.snapshot = self.shown_snapshot = snapshot
        self._redraw()

    def action_replay_toggle(self) -> None:
        """Play or pause the replay."""
        assert self.replay is not None
        self.replay.playing = not self.replay.playing
        self._redraw()

    def action_replay_step(self, step: int) -> None:
        """Pause and move one interval back or forward."""
        assert self.replay is not None
        self.replay.playing = False
        self._replay_show(self.replay.position + step)

    def action_replay_jump(self, to_end: int) -> None:
        """Pause and jump to the first or the last interval."""
        assert self.replay is not None
        self.replay.playing = False
        self._replay_show(self.replay.last if to_end else 1)

    def action_replay_speed(self) -> None:
        """Play at 1x, 4x or 16x the recorded pace."""
        assert self.replay is not None
        speed = self.replay.next_speed()
        self._replay_timer.stop()
        self._replay_timer = self.set_interval(
            self.replay.source.interval_s / speed, self._replay_tick, pause=False
        )
        self._redraw()

    # -- data arriving (collector thread) --------------------------------------------------

    def _reading_arrived(self, reading: RawReading) -> None:
        """Runs on the collector thread: build the snapshot there, post only the newest."""
        self.first_reading = self.first_reading or reading
        if self.session is not None:
            self.session.observe(reading)
        snapshot = self.stream.push(reading)
        identities = self.capture.take()  # always: what it remembers is only for this interval
        if self.recorder is not None and not self.recorder.closed:
            try:
                self.recorder.record(reading, identities)
            except RecordingError as error:
                self.recording_error = str(error)
                self.post_message(RecordingStopped(str(error)))
        if self.metrics is not None:
            self.metrics.update(reading, snapshot)
        if self.targets is not None:
            for line in self.targets.news()[0]:
                self.post_message(TargetExited(line))
        if snapshot is None:
            return
        now, cpu = time.monotonic(), _cpu_seconds()
        mark_time, mark_cpu = self._cpu_mark
        self._cpu_mark = (now, cpu)
        own_cpu = 100 * (cpu - mark_cpu) / (now - mark_time) if now > mark_time else None
        with self._latest_lock:
            already_posted = self._latest is not None
            self._latest = (snapshot, own_cpu)
        if not already_posted:
            self.post_message(SnapshotReady())

    def _collector_failed(self, error: BaseException) -> None:
        self.post_message(SourceFailed(error))

    def on_snapshot_ready(self, _message: SnapshotReady) -> None:
        with self._latest_lock:
            latest, self._latest = self._latest, None
        if latest is not None:
            self.apply_snapshot(*latest)

    def on_recording_stopped(self, message: RecordingStopped) -> None:
        self.notify(f"{message.error}; the dashboard goes on", severity="error", timeout=30)

    def on_target_exited(self, message: TargetExited) -> None:
        self.notify(message.line, severity="warning", timeout=10)

    def on_source_failed(self, message: SourceFailed) -> None:
        self.exit(1, return_code=1, message=f"syscalltop: collector failed: {message.error}")

    # -- used by tests and screenshots instead of the collector thread ---------------------

    def advance(self, intervals: int = 1) -> None:
        """Read `intervals` more readings from the source synchronously and show the last."""
        for _ in range(intervals):
            snapshot = self.stream.push(self.source.read())
            if snapshot is not None:
                self.apply_snapshot(snapshot, None)

    def apply_snapshot(self, snapshot: Snapshot, own_cpu_pct: float | None) -> None:
        """Take a new interval; redraw unless paused (the anomaly log records either way)."""
        for anomaly in snapshot.anomalies:
            sequence = self.anomaly_log[0].sequence + 1 if self.anomaly_log else 1
            self.anomaly_log.appendleft(LoggedAnomaly(sequence, anomaly))
        self.snapshot = snapshot
        self.own_cpu_pct = own_cpu_pct
        if self.view.paused:
            return
        self.shown_snapshot = snapshot
        self._redraw()

    # -- the view: state folded from what the user did, drawn as frames --------------------

    def frame(self) -> Frame:
        """Return what the screens draw now."""
        from tui.manpages import spawned

        view = self.view
        if view.own_pid is not None:
            children = spawned()
            if children != view.own_children:
                view = replace(view, own_children=children)
        return Frame(
            snapshot=self.shown_snapshot,
            view=view,
            facts=self.facts,
            names=self.names,
            own_cpu_pct=self.own_cpu_pct,
            replay_bar=self.replay.describe() if self.replay is not None else None,
            anomaly_log=tuple(self.anomaly_log),
            settings=(
                self.config.sort_key if self.config.sort_key != "rate" else None,
                tuple(sorted(view.hidden_columns)),
            ),
        )

    def _redraw(self) -> None:
        # The top screen with data, or the one under a modal (help stays live behind it).
        for screen in reversed(self.screen_stack):
            if isinstance(screen, FrameScreen):
                screen.show_frame(self.frame())
                return

    def _follow_views(self, old: tuple[View, ...], new: tuple[View, ...]) -> None:
        """Pop the screens of the views that left the stack, push those that joined it."""
        common = 0
        while common < min(len(old), len(new)) and old[common] == new[common]:
            common += 1
        while isinstance(self.screen, HelpScreen):
            self.pop_screen()
        for _ in range(len(old) - common):
            self.pop_screen()
        for view in new[common:]:
            self.push_screen(screen_for(view, self.frame()))

    def action_quit_or_back(self) -> None:
        """q: back one level in a sub-view (the baselines and log live on), quit at home."""
        if len(self.view.views) > 1:
            self.act(ViewClosed())
        else:
            self.exit()

    def on_process_action(self, message: ProcessAction) -> None:
        """Do what the user asked for a process; replays are not live, so never there."""
        from tui.procinfo import open_files, same_process, send_signal, strace_command

        if self.replay is not None or isinstance(self.source, ReplaySource):
            self.notify("a replay shows recorded processes: nothing to act on", timeout=4)
            return
        pid, comm = message.pid, message.comm
        if message.kind == "strace":
            command = strace_command(pid, message.detail)
            self.copy_to_clipboard(command)
            self.notify(f"copied: {command}", timeout=8)
        elif not same_process(pid, comm):
            self.notify(f"{comm}[{pid}] is gone (or its pid is another process now)", timeout=5)
        elif message.kind == "open_files":
            self.push_screen(TextScreen(f"open files of {comm}[{pid}]", open_files(pid)))
        elif message.kind == "signal":
            line, sent = send_signal(pid, comm, message.signum)
            self.notify(line, timeout=5, severity="information" if sent else "error")

    def on_user_acted(self, message: UserActed) -> None:
        self.act(message.event)

    def act(self, event: ViewEvent) -> None:
        """Fold what the user did into the view state, then follow it on screen."""
        before = self.view
        self.view = fold(before, event)
        if self.view.views != before.views:
            self._follow_views(before.views, self.view.views)
        if self.view.interval_s != before.interval_s and self.collector is not None:
            self.collector.set_interval(self.view.interval_s)
        if self.view.paused != before.paused and self.snapshot is not None:
            # Unpausing shows the newest interval collected meanwhile.
            self.shown_snapshot = self.snapshot
        self._redraw()

    # -- actions ---------------------------------------------------------------------------

    def action_help(self) -> None:
        """Show every key."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_pause(self) -> None:
        """Freeze the screen; collection goes on, and unpausing shows the newest interval."""
        self.act(PauseToggled())

    def action_toggle_failures(self) -> None:
        """Show only syscalls and processes with errors."""
        self.act(FailuresToggled())

    def action_slower(self) -> None:
        """Lengthen the interval one step."""
        self.act(IntervalChanged(longer_interval(self.view.interval_s)))

    def action_faster(self) -> None:
        """Shorten the interval one step."""
        self.act(IntervalChanged(shorter_interval(self.view.interval_s)))

    def action_toggle_theme(self) -> None:
        """Switch between the dark and the light theme."""
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"

    def action_inflight(self) -> None:
        """Show the threads inside a syscall right now."""
        self.act(ViewOpened(View(ViewKind.INFLIGHT)))

    def action_anomalies(self) -> None:
        """Show the anomaly log."""
        self.act(ViewOpened(View(ViewKind.ANOMALIES)))

    def action_errors(self) -> None:
        """Show errors by errno, syscall and process."""
        self.act(ViewOpened(View(ViewKind.ERRORS)))

    def action_groups(self) -> None:
        """Show containers, pods, services and sessions."""
        self.act(ViewOpened(View(ViewKind.GROUPS)))

    def action_save_view(self) -> None:
        """Save the screen as SVG and the interval as JSON, with the recording's safe writes."""
        if self.shown_snapshot is None:
            self.notify("nothing to save yet", severity="warning")
            return
        svg = self.export_screenshot(title="syscalltop")
        try:
            base = save_view(self.shown_snapshot, svg, self.config.snapshot_dir, self.config.force)
        except SafeFileError as error:
            self.notify(str(error), severity="error", timeout=6)
            return
        self.notify(f"saved {base}.json and .svg", timeout=4)

    def action_seccomp_profile(self) -> None:
        """Write a seccomp profile of the process or group on screen (what it called so far)."""
        from tui.export.seccomp import save_observed_profile

        target = profile_target(self.view.current, self.shown_snapshot)
        first, last = self.first_reading or self.stream.previous, self.stream.previous
        if target is None or first is None or last is None:
            self.notify("open a process (Enter) or a group (c) first, then P", timeout=4)
            return
        try:
            line = save_observed_profile(
                self.config.snapshot_dir, first, last, self.names, target, self.config.force
            )
        except SafeFileError as error:
            self.notify(str(error), severity="error", timeout=6)
            return
        self.notify(line, timeout=8)

    def action_reset_baseline(self) -> None:
        """Forget the anomaly baselines (the collector applies it before the next interval)."""
        self.stream.reset_requested = True
        self.anomaly_log.clear()
        self.notify("anomaly baseline reset: warming up again", timeout=3)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Command palette: our actions, and Textual's minus any that write files as root."""
        yield SystemCommand(
            "Pause / resume", "Freeze the screen (collection continues)", self.action_toggle_pause
        )
        yield SystemCommand(
            "Failures only",
            "Show only syscalls and processes with errors",
            self.action_toggle_failures,
        )
        yield SystemCommand("Longer interval", "Update less often", self.action_slower)
        yield SystemCommand("Shorter interval", "Update more often", self.action_faster)
        yield SystemCommand("Toggle theme", "Dark or light", self.action_toggle_theme)
        yield SystemCommand("In flight", "Threads inside a syscall now", self.action_inflight)
        yield SystemCommand("Anomalies", "The anomaly log", self.action_anomalies)
        yield SystemCommand("Errors", "Errors by errno, syscall, process", self.action_errors)
        yield SystemCommand(
            "Containers and services", "Calls by container, pod, unit", self.action_groups
        )
        yield SystemCommand(
            "Reset baseline", "Forget anomaly baselines", self.action_reset_baseline
        )
        yield SystemCommand("Help", "Every key", self.action_help)
        for command in super().get_system_commands(screen):
            if command.title not in ("Screenshot", "Theme"):
                yield command


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def make_app(
    config: Config,
    source: Source,
    names: SyscallNames | None = None,
    describe: DescribeProcess = kernel_identity,
    facts: StatusFacts | None = None,
    start_collector: bool = True,
    recorder: Recorder | None = None,
    driver_class: type[Driver] | None = None,
) -> SyscallTopApp:
    """Build the app; the CLI and the tests both come through here."""
    return SyscallTopApp(
        config,
        source,
        names or SyscallNames(),
        describe,
        facts,
        start_collector,
        recorder,
        driver_class,
    )


def _terminal_hung_up() -> None:
    # Nothing can be restored on a terminal that is gone, and Textual's input thread spins on
    # its EOF: leave at once. Exiting detaches the BPF programs; recordings are whole lines.
    os._exit(128 + signal.SIGHUP)


def own_terminal_driver(terminal: io.TextIOWrapper) -> type[Driver]:
    """Return Textual's Linux driver drawing on `terminal` (a duplicate of the terminal's fd):
    while BPF compiles beside the first screen, fds 1 and 2 go to a file that keeps clang's
    and libbcc's messages for the one line a failure prints."""
    from textual.drivers.linux_driver import LinuxDriver

    class OwnTerminalDriver(LinuxDriver):
        def __init__(self, app: App[Any], **options: Any) -> None:
            super().__init__(app, **options)
            self._file = terminal

        def _get_terminal_size(self) -> tuple[int, int]:
            try:
                size = os.get_terminal_size(terminal.fileno())
            except OSError:  # not a terminal: Textual's own guess
                return super()._get_terminal_size()
            return size.columns or 80, size.lines or 25

    return OwnTerminalDriver


def run_dashboard(
    session: Session, stop: StopRequest, terminal: io.TextIOWrapper | None = None
) -> int:
    """Run the dashboard on an opened session (drawing on `terminal` when given); the caller
    closes the session."""
    app = make_app(
        session.config,
        session.source,
        session.names,
        session.describe,
        recorder=session.recorder,
        driver_class=own_terminal_driver(terminal) if terminal is not None else None,
    )
    app.metrics = session.metrics
    app.session = session
    app.stop = stop
    app.targets = target_watch(session.config)
    watch_terminal((0, 1), _terminal_hung_up)
    try:
        result = app.run()
    finally:
        stop.install()  # the event loop's close reset the signal handlers
    if app.start_error is not None:
        raise app.start_error
    if not write_seccomp_profile(session, app.first_reading, app.stream.previous):
        return 1
    code = app.return_code if app.return_code is not None else (result or 0)
    if app.recording_error is not None:
        print(f"syscalltop: {app.recording_error}", file=sys.stderr)
        code = code or 1
    return code
