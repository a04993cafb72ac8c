"""`make screenshots`: write every scene's SVG into screenshots/."""

from __future__ import annotations

import asyncio

from tests.ui.scenes import SCENES, SCREENSHOTS, render_scene


async def main() -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    for scene in SCENES:
        svg = await render_scene(scene)
        (SCREENSHOTS / f"{scene.name}.svg").write_text(svg)
        print(f"screenshots/{scene.name}.svg")


if __name__ == "__main__":
    asyncio.run(main())
