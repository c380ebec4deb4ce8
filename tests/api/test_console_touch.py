"""A finger on the console: tables dragged on the floor-plan editor by touch (the touch
events Chromium turns into pointer events, as on a tablet), while a swipe over the
evening floor still scrolls the page."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import CDPSession, Page, expect

from tests.api.browser import PHONE, TABLET, needs_chromium, open_floor, open_plan, table_in

pytestmark = needs_chromium


async def touch_drag(
    page: Page, start: tuple[float, float], end: tuple[float, float], steps: int = 8
) -> None:
    """One finger down at `start`, moved to `end` in `steps`, and lifted."""
    cdp: CDPSession = await page.context.new_cdp_session(page)

    async def touch(kind: str, x: float, y: float) -> None:
        points = [] if kind == "touchEnd" else [{"x": x, "y": y, "id": 1}]
        await cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    await touch("touchStart", *start)
    for step in range(1, steps + 1):
        x = start[0] + (end[0] - start[0]) * step / steps
        y = start[1] + (end[1] - start[1]) * step / steps
        await touch("touchMove", x, y)
    await touch("touchEnd", *end)
    await cdp.detach()


@pytest.mark.parametrize("page", [TABLET, PHONE], indirect=True, ids=["tablet", "phone"])
async def test_a_table_dragged_by_a_finger_moves_on_the_plan(
    staff: Page, layout: dict[str, Any]
) -> None:
    page = staff
    table_id = layout["tables"][0]["table_id"]
    await open_plan(page, layout)
    table = table_in(page, "plan-svg", table_id)
    await table.scroll_into_view_if_needed()
    before = (
        float(await table.get_attribute("data-x") or 0),
        float(await table.get_attribute("data-y") or 0),
    )
    box = await table.bounding_box()
    assert box is not None
    start = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    scrolled = await page.evaluate("window.scrollY")
    await touch_drag(page, start, (start[0] + 60, start[1] + 40))

    await expect(page.locator("#plan-dirty")).to_be_visible()
    after = (
        float(await table.get_attribute("data-x") or 0),
        float(await table.get_attribute("data-y") or 0),
    )
    # 60 by 40 screen pixels, in canvas units at the plan's scale (about 1.4 to 2.8).
    assert after[0] > before[0] + 30, (before, after)
    assert after[1] > before[1] + 20, (before, after)
    # The finger moved the table, not the page.
    assert await page.evaluate("window.scrollY") == scrolled


@pytest.mark.parametrize("page", [PHONE], indirect=True, ids=["phone"])
async def test_a_swipe_over_the_evening_floor_scrolls_the_page(
    staff: Page, layout: dict[str, Any]
) -> None:
    """The floor is tapped, never dragged: a finger over it must still scroll the page
    on a phone, where the floor is the whole width of the screen."""
    page = staff
    await open_floor(page)
    svg = page.locator("#floor-svg")
    box = await svg.bounding_box()
    assert box is not None
    # Over the canvas between the tables, from near its foot upwards.
    start = (box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.9)
    await touch_drag(page, start, (start[0], start[1] - 200), steps=10)
    await page.wait_for_function("window.scrollY > 50", timeout=3000)
