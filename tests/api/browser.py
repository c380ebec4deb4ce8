"""What the console's browser tests share: the sizes and zones they open the console
at, screenshots, and the steps most of them take (open the floor, write through a form
that may ask for an override reason). Fixtures (`browser`, `page`, `staff`,
`own_venue`, `layout`) live in `tests/api/conftest.py`."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Page, expect

from tests.api.conftest import CHROMIUM, NO_CHROMIUM, TIME_ZONE, OwnVenue
from tests.support.tools import REQUIRE_TOOLS

SHOTS = os.environ.get("TABLEBOOK_SCREENSHOTS")
needs_chromium = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK) and not REQUIRE_TOOLS,
    reason=NO_CHROMIUM,
)
"""Without Chromium, skipped; when tools are required, the `browser` fixture fails."""


async def screenshot(page: Page, name: str) -> None:
    if SHOTS:
        await page.screenshot(path=str(Path(SHOTS) / f"console-{name}.png"))


async def open_plan(page: Page, layout: dict[str, Any]) -> None:
    await page.goto("/console#plan")
    await page.locator("#plan-layout").select_option(layout["id"])
    await expect(page.locator("#plan-name")).to_have_value(layout["name"])


def table_in(page: Page, svg: str, table_id: str) -> Any:
    return page.locator(f"#{svg} g.table[data-table-id='{table_id}']")


# A browser far from the venue (UTC+14, the venue in London): the console keeps the
# venue's day and clock, not the browser's.
FAR_AWAY = {"timezone_id": "Pacific/Kiritimati"}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def venue_now() -> dt.datetime:
    return dt.datetime.now(ZoneInfo(TIME_ZONE))


def minutes(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:5])


async def open_floor(page: Page) -> None:
    await page.goto("/console#floor")
    await expect(page.locator("#floor-svg g.table").first).to_be_visible()
    await expect(page.locator("#floor-live")).to_have_attribute("data-state", "live")


async def show_floor(page: Page, day: dt.date, at: str) -> None:
    """The floor as it stands on `day` at `at`, chosen in its date and time fields."""
    await page.goto("/console#floor")
    await expect(page.locator("#floor-svg g.table").first).to_be_visible()
    await page.locator("#floor-date").fill(day.isoformat())
    await page.locator("#floor-time").fill(at)
    await page.get_by_role("button", name="Show").click()
    await expect(page.locator("#floor-status")).to_contain_text(f"on {day.isoformat()} at {at}")
    await expect(page.locator("#floor-live")).to_have_attribute("data-state", "live")


def posted(path: str) -> Callable[[Any], bool]:
    return lambda r: r.request.method == "POST" and r.url.split("?")[0].endswith(path)


async def written(
    page: Page, action: Callable[[], Awaitable[None]], path: str, reason: str = "Regulars"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Do `action` and answer what it wrote to `path`: the body sent and the answer. When
    the API asks staff for an override (the clock of the run may fall outside the venue's
    hours or turn past its close), the host gives `reason` in the console's dialog."""
    async with page.expect_response(posted(path)) as first:
        await action()
    response = await first.value
    if response.status == 422:
        problem = await response.json()
        assert problem["type"].endswith("/override-required"), problem
        dialog = page.locator("#reason-dialog")
        await expect(dialog).to_be_visible()
        await expect(dialog).to_contain_text(problem["detail"][1:40])
        await dialog.get_by_label("Reason for the override").fill(reason)
        async with page.expect_response(posted(path)) as second:
            await dialog.get_by_role("button", name="Override and").click()
        response = await second.value
        assert (response.request.post_data_json or {})["override"] == {"reason": reason}
        await expect(dialog).to_be_hidden()
    assert response.ok, await response.text()
    sent: dict[str, Any] = response.request.post_data_json or {}
    return sent, await response.json()


async def choose_venue(page: Page, venue: OwnVenue) -> None:
    """The tab works on `venue` from its first page on."""
    await page.add_init_script(f"sessionStorage.setItem('tablebook.venue', {venue.id!r})")


# The three sizes of the console: a desktop, a tablet upright, a phone.
DESKTOP = {"viewport": {"width": 1440, "height": 900}}
TABLET = {"viewport": {"width": 768, "height": 1024}, "is_mobile": True, "has_touch": True}


async def assert_accessible(page: Page, where: str) -> None:
    """axe-core (from npm, bundled by axe-playwright-python) finds no serious or critical
    violation on the page as it is now; the failure names each rule and the nodes."""
    from axe_playwright_python.async_playwright import Axe

    results = await Axe().run(page)
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(n["target"]) for n in v["nodes"][:5])
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]
    assert bad == [], f"{where}: " + "; ".join(bad)


async def through_nav(page: Page, name: str) -> None:
    """Go to screen `name` as a person would: on a narrow screen, through its Menu."""
    menu = page.locator("#nav-toggle")
    if await menu.is_visible():
        await menu.click()
        await expect(menu).to_have_attribute("aria-expanded", "true")
    await page.locator(f"#nav button[data-screen='{name}']").click()
