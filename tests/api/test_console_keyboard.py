"""The console without a mouse: the skip link, the Menu of a narrow screen, focus on each
new screen's heading, and the tables of the floor picked from the keyboard."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.api.browser import TABLET, choose_venue, needs_chromium
from tests.api.conftest import OwnVenueMaker

pytestmark = needs_chromium


@pytest.mark.parametrize("page", [TABLET], indirect=True, ids=["tablet"])
async def test_the_menu_opens_moves_and_closes_from_the_keyboard(
    staff: Page, own_venue: OwnVenueMaker
) -> None:
    page = staff
    await choose_venue(page, await own_venue())
    await page.goto("/console#floor")
    await expect(page.locator("#floor-title")).to_be_focused()

    # Tab goes on from the heading, into the screen.
    await page.keyboard.press("Tab")
    await expect(page.locator("#floor-date")).to_be_focused()
    await page.locator(".skip").focus()
    await expect(page.locator(".skip")).to_be_in_viewport()

    menu = page.locator("#nav-toggle")
    await menu.focus()
    await page.keyboard.press("Enter")
    await expect(menu).to_have_attribute("aria-expanded", "true")
    current = page.locator("#nav button[aria-current=page]")
    await expect(current).to_be_focused()  # the list opens where we are
    await page.keyboard.press("Escape")
    await expect(page.locator("#nav")).to_be_hidden()
    await expect(menu).to_be_focused()

    await page.keyboard.press("Enter")
    await page.keyboard.press("Tab")  # the next screen in the list
    focused = await page.evaluate("document.activeElement.dataset.screen")
    assert focused not in (None, "floor")
    await page.keyboard.press("Enter")
    await expect(page.locator(f"#{focused}-title")).to_be_focused()
    await expect(page.locator("#nav")).to_be_hidden()
    await expect(page.locator(f"#nav button[data-screen='{focused}']")).to_have_attribute(
        "aria-current", "page"
    )


async def test_a_floor_table_is_picked_from_the_keyboard(
    staff: Page, own_venue: OwnVenueMaker
) -> None:
    page = staff
    await choose_venue(page, await own_venue())
    await page.goto("/console#floor")
    table = page.locator("#floor-svg g.table").first
    await expect(table).to_have_attribute("role", "button")
    # The focus is drawn: the table's outline is thicker, in the focus colour. (The floor
    # draws again when the day's statuses arrive, replacing the table under a focus given
    # before: focus it again until the drawing it has is the one that stays.)
    width = ""
    for _ in range(50):
        await table.focus()
        width = await table.locator(".table-shape").evaluate(
            "(s) => s.isConnected ? getComputedStyle(s).strokeWidth : ''"
        )
        if width == "4px":
            break
        await page.wait_for_timeout(100)
    assert width == "4px"
    await expect(table).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(table).to_have_attribute("aria-pressed", "true")
    await expect(page.locator("#floor-picked")).to_contain_text("Picked:")
    await page.keyboard.press("Enter")
    await expect(table).to_have_attribute("aria-pressed", "false")
