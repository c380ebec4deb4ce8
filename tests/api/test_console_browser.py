"""The staff console in a real browser: Chromium, driven by Playwright, against a real
`tablebook serve` fed by the package's projector daemon.

Without Chromium (`CHROMIUM`, default `/usr/bin/chromium`) these tests are skipped. With
`TABLEBOOK_SCREENSHOTS=<dir>` they also keep a screenshot of each screen there.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from playwright.async_api import Browser, Page, Route, async_playwright, expect

from tests.api.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, Headers, NewUser
from tests.support.scope import TEST_VENUE

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = os.environ.get("TABLEBOOK_SCREENSHOTS")
# Where the six tables of the package's venue stand on the test layout: x, y, w, h, shape.
PLACES = {
    "T1": (60, 80, 90, 90, "round"),
    "T2": (220, 80, 90, 90, "round"),
    "T3": (60, 300, 130, 130, "square"),
    "T4": (580, 80, 130, 130, "square"),
    "T5": (580, 300, 200, 100, "rectangle"),
    "T6": (580, 450, 260, 110, "oval"),
}

Client = AsyncTestClient[Litestar]

pytestmark = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK),
    reason=f"no Chromium at {CHROMIUM} to drive (apt-get install -y chromium)",
)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        await browser.close()


@pytest.fixture
async def page(browser: Browser, live_server: str) -> AsyncIterator[Page]:
    """A fresh tab on the console's server; fails the test on any script error."""
    context = await browser.new_context(
        base_url=live_server, viewport={"width": 1440, "height": 900}
    )
    context.set_default_timeout(5000)
    tab = await context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield tab
    finally:
        await context.close()
    assert errors == [], f"script errors in the console: {errors}"


@pytest.fixture
async def staff(page: Page, admin: Headers) -> Page:
    """The tab, already signed in as the admin (its token in the tab's session storage)."""
    token = admin["Authorization"].removeprefix("Bearer ")
    await page.add_init_script(f"sessionStorage.setItem('tablebook.token', {token!r})")
    await page.add_init_script(  # the suite's venue, until the tab chooses another
        "if (!sessionStorage.getItem('tablebook.venue'))"
        f" sessionStorage.setItem('tablebook.venue', {TEST_VENUE!r})"
    )
    return page


async def screenshot(page: Page, name: str) -> None:
    if SHOTS:
        await page.screenshot(path=str(Path(SHOTS) / f"console-{name}.png"))


async def tables(client: Client, admin: Headers) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/admin/tables?limit=500", headers=admin)
    assert response.status_code == 200, response.text
    return [t for t in response.json()["items"] if t["name"] in PLACES]


@pytest.fixture
async def layout(client: Client, admin: Headers) -> dict[str, Any]:
    """A layout of the six tables, the main room on the left and the terrace on the right."""
    placed = [
        dict(zip(("x", "y", "width", "height", "shape"), PLACES[t["name"]], strict=True))
        | {"table_id": t["id"]}
        for t in sorted(await tables(client, admin), key=lambda t: t["name"])
    ]
    body = {
        "name": f"Browser floor {uuid.uuid4().hex[:6]}",
        "tables": placed,
        "areas": [
            {"name": "Main", "x": 0, "y": 0, "width": 500, "height": 600, "color": "#f4ebdd"},
            {"name": "Terrace", "x": 520, "y": 0, "width": 480, "height": 600, "color": "#e3f1e0"},
        ],
        "canvas": {"width": 1000, "height": 600},
    }
    response = await client.post("/api/v1/admin/layouts", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return dict(response.json(), consistency=response.headers["X-Consistency-Token"])


async def open_plan(page: Page, layout: dict[str, Any]) -> None:
    await page.goto("/console#plan")
    await page.locator("#plan-layout").select_option(layout["id"])
    await expect(page.locator("#plan-name")).to_have_value(layout["name"])


def table_in(page: Page, svg: str, table_id: str) -> Any:
    return page.locator(f"#{svg} g.table[data-table-id='{table_id}']")


# --- sign in --------------------------------------------------------------------------


async def test_staff_sign_in_and_a_wrong_password_is_told_so(page: Page) -> None:
    await page.goto("/console")
    signin = page.locator("#signin")
    await expect(signin.get_by_role("heading", name="Sign in")).to_be_visible()
    await screenshot(page, "sign-in")

    await signin.get_by_label("Email").fill("nobody@example.com")
    await signin.get_by_label("Password").fill("not the password")
    await signin.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#signin-problem")).to_contain_text("Not signed in")

    await signin.get_by_label("Email").fill(ADMIN_EMAIL)
    await signin.get_by_label("Password").fill(ADMIN_PASSWORD)
    await signin.get_by_label("Password").press("Enter")
    await expect(page.locator("#who-name")).to_have_text("Ada Admin")
    await expect(page.get_by_role("heading", name="Evening floor")).to_be_visible()
    await expect(page.locator("#signin")).to_be_hidden()


# --- the floor-plan editor ------------------------------------------------------------


async def test_a_dragged_table_stays_where_it_was_dropped_after_save_and_reload(
    staff: Page, layout: dict[str, Any], client: Client, admin: Headers
) -> None:
    page = staff
    table_id = layout["tables"][0]["table_id"]
    await open_plan(page, layout)
    table = table_in(page, "plan-svg", table_id)
    before = (float(await table.get_attribute("data-x") or 0), await table.get_attribute("data-y"))
    box = await table.bounding_box()
    assert box is not None
    start = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    await page.mouse.move(*start)
    await page.mouse.down()
    await page.mouse.move(start[0] + 120, start[1] + 150, steps=6)
    await page.mouse.move(start[0] + 250, start[1] + 300, steps=6)
    await page.mouse.up()
    dropped = (await table.get_attribute("data-x"), await table.get_attribute("data-y"))
    assert float(dropped[0] or 0) > before[0] + 50, (before, dropped)
    await expect(page.locator("#plan-dirty")).to_be_visible()

    await page.get_by_role("button", name="Save").click()
    await expect(page.locator("#plan-status")).to_contain_text("Saved")
    await page.get_by_role("button", name="Activate").click()
    await expect(page.locator("#plan-active")).to_be_visible()
    await table_in(page, "plan-svg", table_id).click()
    await expect(page.locator("#table-form")).to_be_visible()
    await screenshot(page, "floor-plan")
    await expect(page.locator("#plan-dirty")).to_be_hidden()

    await page.reload()
    await page.locator("#plan-layout").select_option(layout["id"])
    table = table_in(page, "plan-svg", table_id)
    await expect(table).to_have_attribute("data-x", dropped[0] or "")
    await expect(table).to_have_attribute("data-y", dropped[1] or "")
    response = await client.get(f"/api/v1/admin/layouts/{layout['id']}", headers=admin)
    placed = {t["table_id"]: t for t in response.json()["tables"]}
    assert (placed[table_id]["x"], placed[table_id]["y"]) == tuple(map(float, dropped))


async def test_a_layout_someone_else_saved_meanwhile_is_not_overwritten(
    staff: Page, layout: dict[str, Any], client: Client, admin: Headers
) -> None:
    page = staff
    table_id = layout["tables"][1]["table_id"]
    await open_plan(page, layout)
    theirs = {key: layout[key] for key in ("tables", "areas", "canvas")}
    response = await client.put(
        f"/api/v1/admin/layouts/{layout['id']}",
        json={**theirs, "name": "Their Saturday floor"},
        headers={**admin, "If-Match": str(layout["version"])},
    )
    assert response.status_code == 200, response.text

    table = table_in(page, "plan-svg", table_id)
    await table.focus()
    await page.keyboard.press("ArrowRight")
    await page.keyboard.press("ArrowRight")
    x = float(layout["tables"][1]["x"]) + 20
    await expect(table).to_have_attribute("data-x", str(int(x)))
    await page.get_by_role("button", name="Save").click()

    problem = page.locator("#plan-problem")
    await expect(problem).to_contain_text("Someone else saved this layout")
    await expect(problem.get_by_role("button", name="Reload their version")).to_be_visible()
    response = await client.get(
        f"/api/v1/admin/layouts/{layout['id']}",
        headers={**admin, "X-Consistency-Token": response.headers["X-Consistency-Token"]},
    )
    assert response.json()["name"] == "Their Saturday floor"
    placed = {t["table_id"]: t for t in response.json()["tables"]}
    assert placed[table_id]["x"] == layout["tables"][1]["x"]


# --- the evening's floor ---------------------------------------------------------------


async def show_floor(page: Page, day: dt.date, at: str) -> None:
    await page.goto("/console#floor")
    await expect(page.locator("#floor-svg g.table").first).to_be_visible()
    await page.locator("#floor-date").fill(day.isoformat())
    await page.locator("#floor-time").fill(at)
    await page.get_by_role("button", name="Show").click()
    await expect(page.locator("#floor-status")).to_contain_text(f"on {day.isoformat()} at {at}")
    await expect(page.locator("#floor-live")).to_have_attribute("data-state", "live")


async def test_a_time_no_booking_can_start_at_still_shows_the_floor_and_says_why(
    staff: Page, days: Iterator[dt.date]
) -> None:
    """A venue whose starts are every 30 minutes has no table list at 19:15: the API
    answers 422, as a booking at 19:15 gets, and the floor is drawn from the bookings."""
    page = staff
    problem = {
        "type": "https://tablebook.dev/problems/off-slot-grid",
        "title": "Not a bookable start time",
        "status": 422,
        "detail": "19:15 is not on the 30-minute grid from the shift's opening",
    }

    async def refuse(route: Route) -> None:
        await route.fulfill(
            status=422, content_type="application/problem+json", body=json.dumps(problem)
        )

    await page.route("**/bookings/tables?*", refuse)  # the chosen venue's
    await show_floor(page, next(days), "19:15")

    await expect(page.locator("#floor-status")).to_contain_text(
        "No booking can start then: 19:15 is not on the 30-minute grid"
    )


async def test_a_booking_made_elsewhere_colours_its_table_within_a_second(
    staff: Page, client: Client, admin: Headers, days: Iterator[dt.date]
) -> None:
    page = staff
    day = next(days)
    by_name = {t["name"]: t["id"] for t in await tables(client, admin)}
    block = await client.post(
        f"/api/v1/admin/tables/{by_name['T5']}/blocks",
        json={"start": f"{day}T18:00", "end": f"{day}T22:00", "reason": "Private party"},
        headers=admin,
    )
    assert block.status_code == 201, block.text
    await show_floor(page, day, "19:00")
    table = table_in(page, "floor-svg", by_name["T2"])
    await expect(table).to_have_attribute("data-status", "available")
    await expect(table).to_contain_text("free")

    response = await client.post(
        "/api/v1/bookings/",
        json={
            "date": day.isoformat(),
            "time": "19:00",
            "party_size": 2,
            "guest_name": "Ada Lovelace",
            "table_id": by_name["T2"],
            "source": "phone",
        },
        headers=admin,
    )
    assert response.status_code == 201, response.text
    booked_at = time.monotonic()
    await expect(table).to_have_attribute("data-status", "booked", timeout=1000)
    assert time.monotonic() - booked_at < 1.0
    await expect(table).to_contain_text("booked")

    row = page.locator(f"tr[data-booking-id='{response.json()['id']}']")
    await expect(row).to_contain_text("Ada Lovelace")
    asked: list[str] = []

    async def give_a_reason(dialog: Any) -> None:  # the booking is days away: seated early
        asked.append(dialog.message)
        await dialog.accept("Regulars, early for the theatre")

    page.once("dialog", give_a_reason)
    await row.get_by_role("button", name="Seat").click()
    await expect(table).to_have_attribute("data-status", "seated")
    assert "it can be seated from 18:00 until" in asked[0]
    await expect(row.locator(".bk-status")).to_have_text("seated")
    await expect(table_in(page, "floor-svg", by_name["T5"])).to_have_attribute(
        "data-status", "blocked"
    )

    form = page.locator("#booking-form")
    await form.get_by_label("Guest name").fill("Charles Babbage")
    await form.get_by_label("Party size").fill("4")
    await form.get_by_label("Table").select_option(label="T4 (4 seats)")
    await form.get_by_role("button", name="Book").click()
    await expect(page.locator("#floor-status")).to_contain_text("Booked Charles Babbage")
    await expect(page.locator("#floor-bookings")).to_contain_text("Charles Babbage")
    await expect(table_in(page, "floor-svg", by_name["T4"])).to_have_attribute(
        "data-status", "booked"
    )
    await screenshot(page, "evening-floor")


async def test_the_apis_refusals_are_shown_beside_the_booking_form(
    staff: Page, days: Iterator[dt.date]
) -> None:
    page = staff
    day = next(days)
    await show_floor(page, day, "20:00")
    form = page.locator("#booking-form")
    await form.get_by_label("Guest name").fill("Grace Hopper, party of 2")
    await form.get_by_label("Phone").fill("call me maybe")
    await form.get_by_role("button", name="Book").click()
    problem = page.locator("#booking-problem")
    await expect(problem).to_contain_text("guest_phone")
    phone_error = page.locator("#bf-phone-error")
    await expect(phone_error).to_be_visible()
    await expect(form.get_by_label("Phone")).to_have_attribute("aria-invalid", "true")

    await form.get_by_label("Phone").fill("+44 20 7946 0000")
    await form.get_by_label("Time").fill("04:00")
    await form.get_by_role("button", name="Book").click()
    await expect(problem).to_contain_text("not open at")
    await expect(phone_error).to_have_count(0)


# --- venues ---------------------------------------------------------------------------


async def test_a_host_sees_only_their_venue_and_no_floor_plan_editor(
    page: Page, client: Client, admin: Headers, new_user: NewUser
) -> None:
    slug = f"annex-{uuid.uuid4().hex[:8]}"
    opened = await client.post(
        "/api/v1/admin/venues",
        json={"name": "The Annex", "slug": slug, "time_zone": "America/New_York"},
        headers=admin,
    )
    assert opened.status_code == 201, opened.text
    venue = opened.json()
    listed = {**admin, "X-Consistency-Token": opened.headers["X-Consistency-Token"]}
    host, user = await new_user()
    granted = await client.put(
        f"/api/v1/admin/venues/{venue['id']}/staff/{user['id']}",
        json={"role": "host"},
        headers=listed,
    )
    assert granted.is_success, granted.text
    directory = await client.get("/api/v1/venues", headers=listed)  # waits for the opening
    assert venue["id"] in {v["id"] for v in directory.json()}
    token = host["Authorization"].removeprefix("Bearer ")
    await page.add_init_script(f"sessionStorage.setItem('tablebook.token', {token!r})")

    async with page.expect_request(lambda r: f"/api/v1/venues/{venue['id']}/" in r.url):
        await page.goto("/console#floor")

    picker = page.locator("#venue")
    await expect(picker.locator("option")).to_have_count(1)
    await expect(picker).to_have_value(venue["id"])
    await expect(picker.locator("option")).to_have_text("The Annex")
    await expect(page.locator('#nav button[data-screen="plan"]')).to_be_hidden()


async def test_an_admin_switches_venue_and_the_console_follows(
    staff: Page, client: Client, admin: Headers
) -> None:
    page = staff
    slug = f"terrace-{uuid.uuid4().hex[:8]}"
    opened = await client.post(
        "/api/v1/admin/venues",
        json={"name": "Zz Terrace", "slug": slug, "time_zone": "Europe/Lisbon"},
        headers=admin,
    )
    assert opened.status_code == 201, opened.text
    venue = opened.json()
    listed = {**admin, "X-Consistency-Token": opened.headers["X-Consistency-Token"]}
    await client.get("/api/v1/venues", headers=listed)  # the directory lists it now
    await page.goto("/console#floor")
    picker = page.locator("#venue")
    await expect(picker.locator(f"option[value='{venue['id']}']")).to_have_count(1)
    await expect(page.locator('#nav button[data-screen="plan"]')).to_be_visible()

    async with page.expect_request(lambda r: f"/api/v1/venues/{venue['id']}/" in r.url):
        await picker.select_option(venue["id"])
    await page.reload()
    await expect(picker).to_have_value(venue["id"])  # the tab keeps its choice
