"""Every screen of the console at a desktop, a tablet and a phone, for an admin and for a
host: signed in through the form, each screen reached through the navigation (so a screen
added later is covered without a word here), and held to the same bar: no sideways page
scroll, no text under 12 px as rendered (SVG labels included), tap targets of at least
24 px, focus on the screen's heading after a change, and axe-core's serious and critical
rules."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from playwright.async_api import Page, expect

from tests.api.browser import (
    DESKTOP,
    PHONE,
    TABLET,
    assert_accessible,
    choose_venue,
    needs_chromium,
    screenshot,
    through_nav,
)
from tests.api.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    PLACES,
    Headers,
    NewUser,
    OwnVenue,
    OwnVenueMaker,
    grant_role,
)

Client = AsyncTestClient[Litestar]
pytestmark = needs_chromium

SIZES = [
    pytest.param(DESKTOP, id="desktop"),
    pytest.param(TABLET, id="tablet"),
    pytest.param(PHONE, id="phone"),
]

# Counts the console's requests in flight, so a check waits for a screen to settle
# without knowing what the screen reads (an EventSource is not a fetch: never waited on).
COUNT_FETCHES = """
window.__inFlight = 0;
const fetchOf = window.fetch.bind(window);
window.fetch = async (...args) => {
  window.__inFlight += 1;
  try { return await fetchOf(...args); } finally { window.__inFlight -= 1; }
};
"""

# What the page breaks of the bar, as sentences: [] when nothing.
MEASURE = """
() => {
  const problems = [];
  const root = document.documentElement;
  if (root.scrollWidth > window.innerWidth) {
    problems.push(`the page scrolls sideways: ${root.scrollWidth} px in ${window.innerWidth}`);
  }
  const shown = (el) => {
    if (!el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) return false;
    const box = el.getBoundingClientRect();
    return box.width > 1 && box.height > 1; // not the 1 px of .visually-hidden
  };
  const scaleOf = (el) => {
    if (!(el instanceof SVGElement)) return 1;
    const m = el.getScreenCTM();
    return m ? Math.hypot(m.a, m.b) : 1;
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const small = new Set();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || !node.textContent.trim() || !shown(el)) continue;
    if (["SCRIPT", "STYLE", "OPTION"].includes(el.tagName)) continue;
    const size = parseFloat(getComputedStyle(el).fontSize) * scaleOf(el);
    const words = node.textContent.trim().slice(0, 30);
    if (size < 11.95) small.add(`"${words}" at ${size.toFixed(1)} px`);
  }
  if (small.size) problems.push(`text under 12 px: ${[...small].slice(0, 8).join(", ")}`);
  const targets = document.querySelectorAll(
    "button, a[href], input:not([type=hidden]), select, textarea, summary, [role=button], "
      + "[tabindex]:not([tabindex='-1'])",
  );
  const tiny = [];
  for (const el of targets) {
    if (!shown(el) || el.closest(".skip")) continue;
    const box = el.getBoundingClientRect();
    if (box.width < 23.5 || box.height < 23.5) {
      const name = el.getAttribute("aria-label") || el.textContent.trim() || el.id || el.tagName;
      tiny.push(`${name.slice(0, 30)} (${box.width.toFixed(0)} by ${box.height.toFixed(0)})`);
    }
  }
  if (tiny.length) problems.push(`tap targets under 24 px: ${tiny.slice(0, 8).join(", ")}`);
  return problems;
}
"""


async def settled(page: Page) -> None:
    """Wait until the console has no request in flight, then two frames more."""
    await page.wait_for_function("window.__inFlight === 0")
    await page.evaluate("new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")


async def meets_the_bar(page: Page, where: str) -> None:
    await settled(page)
    assert await page.evaluate(MEASURE) == [], where
    await assert_accessible(page, where)


async def sign_in(page: Page, email: str, password: str) -> None:
    await page.goto("/console")
    await expect(page.locator("#signin-title")).to_be_visible()
    await meets_the_bar(page, "sign-in")
    signin = page.locator("#signin")
    await signin.get_by_label("Email").fill(email)
    await signin.get_by_label("Password").fill(password)
    await signin.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#floor-title")).to_be_visible()


async def the_nav(page: Page) -> list[str]:
    """The screens the navigation offers, in its order."""
    nav = page.locator("#nav")
    await expect(nav.locator("button").first).to_be_attached()
    names: list[str] = await nav.locator("button[data-screen]").evaluate_all(
        "(buttons) => buttons.map((b) => b.dataset.screen)"
    )
    return names


async def go_to(page: Page, name: str) -> None:
    """Through the navigation as a person would: on a narrow screen, its Menu first."""
    menu = page.locator("#nav-toggle")
    await through_nav(page, name)
    await expect(page.locator(f"section#{name}")).to_be_visible()
    # A screen change takes focus to the new screen's heading (screen readers say it).
    await expect(page.locator(f"#{name}-title")).to_be_focused()
    if await menu.is_visible():
        await expect(menu).to_have_attribute("aria-expanded", "false")


async def header_fits(page: Page) -> None:
    """Sign out and the search box are on the screen, whatever its width."""
    width = await page.evaluate("window.innerWidth")
    for target in ("#sign-out", "#search-input"):
        box = await page.locator(target).bounding_box()
        assert box is not None, target
        assert 0 <= box["x"] <= box["x"] + box["width"] <= width, target
        await expect(page.locator(target)).to_be_visible()


async def visit_every_screen(page: Page) -> list[str]:
    names = await the_nav(page)
    await header_fits(page)
    for name in names:
        await go_to(page, name)
        await meets_the_bar(page, name)
    return names


async def with_a_floor(client: Client, admin: Headers, venue: OwnVenue) -> None:
    """The suite's test layout, active at `venue`, and a party on its waitlist."""
    scope = f"/api/v1/venues/{venue.id}/admin"
    placed = [
        dict(zip(("x", "y", "width", "height", "shape"), PLACES[name], strict=True))
        | {"table_id": table_id}
        for name, table_id in venue.tables.items()
    ]
    body: dict[str, Any] = {
        "name": "Sizes floor",
        "tables": placed,
        "areas": [
            {"name": "Main", "x": 0, "y": 0, "width": 500, "height": 600, "color": "#f4ebdd"},
            {"name": "Terrace", "x": 520, "y": 0, "width": 480, "height": 600, "color": "#e3f1e0"},
        ],
        "canvas": {"width": 1000, "height": 600},
    }
    made = await client.post(f"{scope}/layouts", json=body, headers=admin)
    assert made.status_code == 201, made.text
    active = await client.post(f"{scope}/layouts/{made.json()['id']}/activate", headers=admin)
    assert active.is_success, active.text
    waiting = await client.post(
        f"{scope}/waitlist",
        json={"party_size": 3, "guest_name": "Ada Byron", "notes": "by the window"},
        headers={**admin, "X-Consistency-Token": active.headers["X-Consistency-Token"]},
    )
    assert waiting.status_code == 201, waiting.text


@pytest.mark.parametrize("page", SIZES, indirect=True)
async def test_every_screen_an_admin_has_fits_reads_and_passes_axe(
    page: Page, client: Client, admin: Headers, own_venue: OwnVenueMaker
) -> None:
    venue = await own_venue()
    await with_a_floor(client, admin, venue)
    await choose_venue(page, venue)
    await page.add_init_script(COUNT_FETCHES)
    await sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    names = await visit_every_screen(page)
    assert {"floor", "timeline", "plan"} <= set(names)


@pytest.mark.parametrize("page", SIZES, indirect=True)
async def test_every_screen_a_host_has_fits_reads_and_passes_axe(
    page: Page, client: Client, admin: Headers, own_venue: OwnVenueMaker, new_user: NewUser
) -> None:
    venue = await own_venue()
    await with_a_floor(client, admin, venue)
    _, user = await new_user(name="Hal Host", password="host password")
    await grant_role(client, admin, venue.id, user["id"], "host")
    await page.add_init_script(COUNT_FETCHES)
    await sign_in(page, user["email"], "host password")
    names = await visit_every_screen(page)
    assert names == ["floor", "timeline"]


@pytest.mark.parametrize(
    "page", [pytest.param(PHONE, id="phone"), pytest.param(TABLET, id="tablet")], indirect=True
)
async def test_the_floor_on_a_phone_and_a_tablet(
    page: Page, client: Client, admin: Headers, own_venue: OwnVenueMaker
) -> None:
    """The host stand in the hand: the floor's labels at 12 px or more, each inside its
    table; the screenshots of the README."""
    venue = await own_venue()
    await with_a_floor(client, admin, venue)
    await choose_venue(page, venue)
    await page.add_init_script(COUNT_FETCHES)
    await sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    tables = page.locator("#floor-svg g.table")
    await expect(tables).to_have_count(len(PLACES))
    await settled(page)
    overflowing = await tables.evaluate_all(
        """(groups) => groups.filter((g) => {
             const shape = g.querySelector('.table-shape').getBoundingClientRect();
             const label = g.querySelector('.table-label').getBoundingClientRect();
             return label.width > shape.width * 1.25 || label.height > shape.height * 1.25;
           }).map((g) => g.getAttribute('aria-label'))"""
    )
    assert overflowing == []
    width = (page.viewport_size or {"width": 0})["width"]
    await screenshot(page, "phone" if width < 600 else "tablet")
