"""SVG snapshots: the screens in screenshots/ are exactly what the app draws today."""

from __future__ import annotations

import pytest

from tests.ui.scenes import SCENES, SCREENSHOTS, Scene, render_scene


@pytest.mark.parametrize("scene", SCENES, ids=[scene.name for scene in SCENES])
async def test_screenshot_is_current(scene: Scene) -> None:
    stored = SCREENSHOTS / f"{scene.name}.svg"
    assert stored.exists(), "run `make screenshots`"
    assert await render_scene(scene) == stored.read_text(), (
        f"{stored.name} is out of date: look at the change, then run `make screenshots`"
    )
