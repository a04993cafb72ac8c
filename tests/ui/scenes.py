"""The screens README shows, made from the real app on the deterministic fake source."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from textual.pilot import Pilot

from tui.app import SyscallTopApp, make_app
from tui.config import Config
from tui.model.view import StatusFacts
from tui.sources.fake_source import FakeSource
from tui.sources.recording import ReplaySource, load_recording

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
FACTS = StatusFacts(
    host="demo-host", kernel="6.18.0", cpus=2, source="fake", sample_every=1000, filters="none"
)


@dataclass(frozen=True)
class Scene:
    """A screenshot: terminal size and the keys pressed after a few intervals."""

    name: str
    size: tuple[int, int]
    keys: tuple[str, ...] = ()
    intervals: int = 9
    recording: str | None = None
    theme: str = "textual-dark"
    no_color: bool = False  # run as under NO_COLOR=1


SCENES = (
    Scene("dashboard-80x24", (80, 24)),
    Scene("dashboard-160x48", (160, 48)),
    Scene("dashboard-120x40", (120, 40)),
    Scene("dashboard-200x60", (200, 60)),
    Scene("dashboard-80x24-light", (80, 24), theme="textual-light"),
    Scene("dashboard-120x40-light", (120, 40), theme="textual-light"),
    Scene("dashboard-200x60-light", (200, 60), theme="textual-light"),
    Scene("dashboard-80x24-nocolor", (80, 24), no_color=True),
    Scene("dashboard-120x40-nocolor", (120, 40), no_color=True),
    Scene("dashboard-200x60-nocolor", (200, 60), no_color=True),
    Scene("errors-80x24-nocolor", (80, 24), ("e",), no_color=True),
    Scene("errors-120x40-light", (120, 40), ("e",), theme="textual-light"),
    Scene("detail-openat-160x48", (160, 48), ("slash", *"openat", "enter")),
    Scene("syscall-drilldown-120x36", (120, 36), ("down", "enter")),
    Scene("process-drilldown-100x30", (100, 30), ("tab", "enter")),
    Scene("filter-open-80x24", (80, 24), ("slash", "o", "p", "e", "n")),
    Scene("help-80x24", (80, 24), ("question_mark",)),
    Scene("anomalies-100x30", (100, 30), ("a",)),
    Scene("errors-100x30", (100, 30), ("e",)),
    Scene("targets-100x30", (100, 30), ("e", "down", "enter")),
    Scene("inflight-100x30", (100, 30), ("i",)),
    Scene("groups-100x30", (100, 30), ("c",)),
    Scene("replay-dashboard-120x36", (120, 36), ("tab",), intervals=5, recording="demo.jsonl"),
)


RECORDINGS = Path(__file__).resolve().parents[1] / "data" / "recordings"


def scene_app(recording: str | None = None) -> SyscallTopApp:
    """Return the app on the fake source (or a recording), driven by hand (no collector)."""
    if recording is None:
        return make_app(Config(), FakeSource(), facts=FACTS, start_collector=False)
    replay = ReplaySource(load_recording(RECORDINGS / recording))
    return make_app(Config(), replay, describe=replay.describe, start_collector=False)


@asynccontextmanager
async def running(
    size: tuple[int, int], intervals: int = 3, app: SyscallTopApp | None = None
) -> AsyncIterator[tuple[SyscallTopApp, Pilot]]:
    """Run the app (on the fake source unless given) headless at `size`, `intervals` in."""
    app = app if app is not None else scene_app()
    async with app.run_test(size=size) as pilot:
        app.advance(intervals)
        await pilot.pause()
        yield app, pilot


async def render_scene(scene: Scene) -> str:
    """Run the app headless for a scene and return its SVG."""
    before = os.environ.pop("NO_COLOR", None)
    if scene.no_color:
        os.environ["NO_COLOR"] = "1"
    try:
        return await _render(scene)
    finally:
        os.environ.pop("NO_COLOR", None)
        if before is not None:
            os.environ["NO_COLOR"] = before


async def _render(scene: Scene) -> str:
    app = scene_app(scene.recording)
    async with app.run_test(size=scene.size) as pilot:
        if not scene.no_color:
            app.theme = scene.theme
        app.advance(scene.intervals)
        await pilot.pause()
        for key in scene.keys:
            await pilot.press(key)
        await pilot.pause()
        return app.export_screenshot(title=f"syscalltop — {scene.name}")
