"""The staff console in a real browser: Chromium, driven by Playwright, against a real
`tablebook serve` fed by the package's projector daemon.

Without Chromium (`CHROMIUM`, default `/usr/bin/chromium`) these tests are skipped. With
`TABLEBOOK_SCREENSHOTS=<dir>` they also keep a screenshot of each screen there.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from playwright.async_api import Page, Route, expect

from tests.api.browser import (
    FAR_AWAY,
    PHONE,
    SHOTS,
    choose_venue,
    minutes,
    needs_chromium,
    open_floor,
    open_plan,
    posted,
    screenshot,
    show_floor,
    table_in,
    venue_now,
    written,
)
from tests.api.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    TABLES,
    Headers,
    NewUser,
    OwnVenue,
    OwnVenueMaker,
    host_at,
    signed_in,
    suite_tables,
)

Client = AsyncTestClient[Litestar]
pytestmark = needs_chromium

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
    by_name = {t["name"]: t["id"] for t in await suite_tables(client, admin)}
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
    await row.get_by_role("button", name="Seat").click()
    reason = page.locator("#reason-dialog")  # the booking is days away: seated early
    await expect(reason).to_contain_text("it can be seated from 18:00 until")
    await reason.get_by_label("Reason for the override").fill("Regulars, early for the theatre")
    await reason.get_by_role("button", name="Override and seat").click()
    await expect(table).to_have_attribute("data-status", "seated")
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
    await page.evaluate("window.scrollTo(0, 0)")  # the picture shows the floor, not the form
    await screenshot(page, "evening-floor")


async def test_a_live_refresh_keeps_the_floors_unchanged_rows_and_tables_under_a_tap(
    staff: Page, client: Client, admin: Headers, days: Iterator[dt.date]
) -> None:
    """A booking made elsewhere redraws the floor from a live event, but a booking's row
    and a table it does not change stay the same elements, buttons and shapes and all:
    a redraw between a host's press and release never swaps the button being tapped."""
    page = staff
    day = next(days)
    by_name = {t["name"]: t["id"] for t in await suite_tables(client, admin)}

    async def book(name: str, table: str, at: str) -> str:
        response = await client.post(
            "/api/v1/bookings/",
            json={
                "date": day.isoformat(),
                "time": at,
                "party_size": 2,
                "guest_name": name,
                "table_id": by_name[table],
                "source": "phone",
            },
            headers=admin,
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    first = await book("Mary Shelley", "T2", "19:00")
    await show_floor(page, day, "19:00")
    row = page.locator(f"#floor-bookings tr[data-booking-id='{first}']")
    seat = row.get_by_role("button", name="Seat")
    await expect(seat).to_be_visible()
    shape = table_in(page, "floor-svg", by_name["T2"]).locator(".table-shape")
    await expect(shape).to_have_count(1)
    table = page.locator("#floor-bookings table")
    for marked in (row, seat, shape, table):
        await marked.evaluate("node => { node.dataset.mark = 'before the refresh'; }")

    second = await book("Percy Shelley", "T3", "20:00")
    await expect(page.locator(f"#floor-bookings tr[data-booking-id='{second}']")).to_contain_text(
        "Percy Shelley"
    )
    for marked in (row, seat, shape, table):
        await expect(marked).to_have_attribute("data-mark", "before the refresh")

    # The kept row's button still acts on its booking.
    await seat.click()
    reason = page.locator("#reason-dialog")  # the booking is days away: seated early
    await reason.get_by_label("Reason for the override").fill("Early for the opera")
    await reason.get_by_role("button", name="Override and seat").click()
    await expect(row.locator(".bk-status")).to_have_text("seated")
    await expect(row).not_to_have_attribute("data-mark", "before the refresh")


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
    await expect(problem).to_contain_text("Check the marked fields.")
    await expect(problem).not_to_contain_text("guest_phone")  # a sentence, not raw field names
    phone_error = page.locator("#bf-phone-error")
    await expect(phone_error).to_be_visible()
    await expect(form.get_by_label("Phone")).to_have_attribute("aria-invalid", "true")

    # A refusal that is no field's fault is its detail sentence.
    await form.get_by_label("Phone").fill("+44 20 7946 0000")
    await form.get_by_label("Party size").fill("40")
    await form.get_by_label("Table").select_option(label="T1 (2 seats)")
    await form.get_by_role("button", name="Book").click()
    dialog = page.locator("#reason-dialog")  # too many for the table: staff may override
    await expect(dialog.locator("#reason-detail")).to_contain_text("give a reason")
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(problem).to_contain_text("Not booked: A party of 40 does not fit")
    await expect(problem).not_to_contain_text("party_size")
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
    host = await host_at(client, listed, new_user, venue["id"], "Grace Hopper")
    directory = await client.get("/api/v1/venues", headers=listed)  # waits for the opening
    assert venue["id"] in {v["id"] for v in directory.json()}
    await signed_in(page, host)

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


# --- the host stand -------------------------------------------------------------------


@pytest.mark.parametrize("page", [FAR_AWAY], indirect=True)
async def test_a_walk_in_is_seated_now_and_shows_seated_on_the_floor_and_in_the_list(
    staff: Page, own_venue: OwnVenueMaker
) -> None:
    page = staff
    await choose_venue(page, await own_venue())
    await open_floor(page)
    today = venue_now().date().isoformat()
    await expect(page.locator("#floor-date")).to_have_value(today)

    form = page.locator("#walkin-form")
    await form.get_by_label("Party size").fill("2")
    await form.get_by_label("Name").fill("Walker Percy")
    await form.get_by_label("Phone").fill("+44 20 7946 0011")
    sent, booking = await written(
        page, lambda: form.get_by_role("button", name="Seat now").click(), "/admin/bookings"
    )

    assert sent["source"] == "walk_in"
    assert sent["seat_now"] is True
    assert "date" not in sent
    assert "time" not in sent
    assert (booking["status"], booking["source"], booking["date"]) == ("seated", "walk_in", today)
    row = page.locator(f"tr[data-booking-id='{booking['id']}']")
    await expect(row).to_contain_text("Walker Percy")
    await expect(row.locator(".bk-status")).to_have_text("seated")
    await expect(row.get_by_role("button", name="Complete")).to_be_visible()
    for table_id in booking["table_ids"]:
        await expect(table_in(page, "floor-svg", table_id)).to_have_attribute(
            "data-status", "seated"
        )
    await expect(page.locator("#floor-status")).to_contain_text("Seated Walker Percy")
    await expect(form.get_by_label("Name")).to_have_value("")
    await screenshot(page, "walk-in")


@pytest.mark.parametrize("page", [FAR_AWAY], indirect=True)
async def test_a_phone_booking_for_tonight_defaults_to_the_venues_today_and_a_time_soon(
    staff: Page, own_venue: OwnVenueMaker
) -> None:
    """Later tonight is inside the guests' hour of lead time: staff book it all the same."""
    page = staff
    venue = await own_venue(lead_minutes=60)
    await choose_venue(page, venue)
    await open_floor(page)
    await expect(page.locator("#venue")).to_have_value(venue.id)
    now = venue_now()
    form = page.locator("#booking-form")
    await form.get_by_role("button", name="Tonight").click()
    await expect(form.get_by_label("Date")).to_have_value(now.date().isoformat())
    at = await form.get_by_label("Time").input_value()
    assert minutes(at) > now.hour * 60 + now.minute or at == "23:59", (at, now)
    assert minutes(at) - (now.hour * 60 + now.minute) <= 30, (at, now)
    await expect(form.get_by_label("Taken by")).to_have_value("phone")

    await form.get_by_label("Guest name").fill("Dorothy Parker")
    await form.get_by_label("Phone").fill("+44 20 7946 0022")
    await form.get_by_label("Party size").fill("2")
    sent, booking = await written(
        page, lambda: form.get_by_role("button", name="Book").click(), "/admin/bookings"
    )

    assert (sent["source"], sent["date"], sent["time"]) == ("phone", now.date().isoformat(), at)
    assert (booking["status"], booking["source"]) == ("confirmed", "phone")
    assert (booking["date"], booking["time"]) == (now.date().isoformat(), at)
    assert booking["venue_id"] == venue.id
    await expect(page.locator("#floor-status")).to_contain_text("Booked Dorothy Parker")
    row = page.locator(f"tr[data-booking-id='{booking['id']}']")
    await expect(row).to_contain_text("Dorothy Parker")
    await expect(row).to_contain_text("phone")


async def test_the_waitlist_adds_notifies_removes_and_seats_a_party(
    staff: Page, client: Client, admin: Headers, own_venue: OwnVenueMaker
) -> None:
    page = staff
    venue = await own_venue()
    await choose_venue(page, venue)
    await page.add_init_script("sessionStorage.setItem('tablebook.waitlistRefreshMs', '500')")
    await open_floor(page)
    panel = page.locator("#waitlist")
    add = panel.locator("#waitlist-form")

    await add.get_by_label("Party size").fill("2")
    await add.get_by_label("Name").fill("Zelda Fitzgerald")
    await add.get_by_label("Phone").fill("call me")  # refused in a host's words
    await add.get_by_role("button", name="Add to waitlist").click()
    # Beside the phone field, in words; the list's box says to look there.
    await expect(add.locator("#wl-phone-error")).to_contain_text("phone number")
    await expect(add.get_by_label("Phone")).to_have_attribute("aria-invalid", "true")
    await expect(panel.locator("#waitlist-problem")).to_contain_text("Check the marked fields")
    await expect(panel.locator("#waitlist-problem")).not_to_contain_text("guest_phone")
    await add.get_by_label("Phone").fill("+44 20 7946 0033")
    _, first = await written(
        page, lambda: add.get_by_role("button", name="Add to waitlist").click(), "/admin/waitlist"
    )
    await add.get_by_label("Party size").fill("3")
    await add.get_by_label("Name").fill("Scott Fitzgerald")
    await add.get_by_label("Notes").fill("high chair")
    _, second = await written(
        page, lambda: add.get_by_role("button", name="Add to waitlist").click(), "/admin/waitlist"
    )
    assert first["status"] == "waiting"
    assert "quoted_wait_minutes" in first

    zelda = panel.locator(f"tr[data-entry-id='{first['id']}']")
    scott = panel.locator(f"tr[data-entry-id='{second['id']}']")
    await expect(zelda.locator(".wl-party")).to_have_text("2")
    await expect(zelda.locator(".wl-quoted")).to_have_text(re.compile(r"^(now|~\d.*)$"))
    await expect(zelda.locator(".wl-waited")).to_contain_text("min")
    position = int(await zelda.locator(".wl-position").inner_text())
    await expect(scott.locator(".wl-position")).to_have_text(str(position + 1))
    await expect(scott).to_contain_text("high chair")

    # One added at the door by a colleague shows up without a click: the list refreshes.
    # Rows that did not change stay the same elements, so a refresh under a host's tap
    # never swaps the button being tapped.
    await zelda.evaluate("row => { row.dataset.seen = 'before the refresh'; }")
    other = await client.post(
        f"/api/v1/venues/{venue.id}/admin/waitlist",
        json={"party_size": 2, "guest_name": "Ring Lardner"},
        headers=admin,
    )
    assert other.status_code == 201, other.text
    await expect(panel).to_contain_text("Ring Lardner")
    await expect(zelda).to_have_attribute("data-seen", "before the refresh")

    await written(page, lambda: zelda.get_by_role("button", name="Notify").click(), "/notify")
    await expect(zelda).to_contain_text("notified")

    async with page.expect_response(posted("/remove")) as removed:
        await scott.get_by_role("button", name="Remove").click()
        dialog = page.locator("#reason-dialog")
        await expect(dialog).to_be_visible()
        await dialog.get_by_label("Why are they leaving the list?").fill("went elsewhere")
        await dialog.get_by_role("button", name="Remove").click()
    response = await removed.value
    assert response.ok
    assert response.request.post_data_json == {"reason": "went elsewhere"}
    await expect(scott).to_have_count(0)

    _, seated = await written(
        page, lambda: zelda.get_by_role("button", name="Seat").click(), "/seat"
    )
    await expect(zelda).to_have_count(0)
    booking = seated.get("booking", seated)
    row = page.locator(f"tr[data-booking-id='{booking['id']}']")
    await expect(row).to_contain_text("Zelda Fitzgerald")
    await expect(row.locator(".bk-status")).to_have_text("seated")
    await screenshot(page, "waitlist")


async def combination(
    client: Client, admin: Headers, venue: OwnVenue, names: list[str], least: int
) -> str:
    """Combine these tables of `venue`; the combination's id."""
    seats = {name: capacity for _, name, capacity, _, _ in TABLES}
    made = await client.post(
        f"/api/v1/venues/{venue.id}/admin/table-combinations",
        json={
            "table_ids": [venue.tables[n] for n in names],
            "min_capacity": least,
            "capacity": sum(seats[n] for n in names),
            "name": " + ".join(names),
        },
        headers={**admin, "X-Consistency-Token": venue.token},
    )
    assert made.status_code == 201, made.text
    listed = await client.get(
        f"/api/v1/venues/{venue.id}/admin/table-combinations",
        headers={**admin, "X-Consistency-Token": made.headers["X-Consistency-Token"]},
    )
    assert made.json()["id"] in {c["id"] for c in listed.json()["items"]}
    return str(made.json()["id"])


async def test_a_party_across_joined_tables_holds_every_one_of_them(
    staff: Page, client: Client, admin: Headers, days: Iterator[dt.date], own_venue: OwnVenueMaker
) -> None:
    page = staff
    venue = await own_venue()
    by_name = venue.tables
    await combination(client, admin, venue, ["T1", "T2"], 3)
    terrace = await combination(client, admin, venue, ["T5", "T6"], 9)
    await choose_venue(page, venue)
    day = next(days)
    await show_floor(page, day, "19:00")
    form = page.locator("#booking-form")
    choice = form.get_by_label("Table")
    await expect(choice.locator(f"option[value='combo:{terrace}']")).to_contain_text("T5 + T6")

    # Two tables picked on the floor: a click, then a Shift+click.
    await table_in(page, "floor-svg", by_name["T1"]).click()
    await table_in(page, "floor-svg", by_name["T2"]).click(modifiers=["Shift"])
    await expect(page.locator("#floor-picked")).to_contain_text("T1 + T2")
    await expect(choice).to_have_value("picked")
    await expect(table_in(page, "floor-svg", by_name["T2"])).to_have_attribute(
        "aria-pressed", "true"
    )
    await form.get_by_label("Guest name").fill("Algonquin table")
    await form.get_by_label("Party size").fill("4")
    sent, booking = await written(
        page, lambda: form.get_by_role("button", name="Book").click(), "/admin/bookings"
    )
    assert sent["table_ids"] == [by_name["T1"], by_name["T2"]]
    assert sorted(booking["table_ids"]) == sorted([by_name["T1"], by_name["T2"]])
    for name in ("T1", "T2"):
        await expect(table_in(page, "floor-svg", by_name[name])).to_have_attribute(
            "data-status", "booked"
        )
    await expect(page.locator(f"tr[data-booking-id='{booking['id']}']")).to_contain_text("T1, T2")

    # One of the venue's combinations, chosen from the list.
    await choice.select_option(f"combo:{terrace}")
    await form.get_by_label("Guest name").fill("Round table")
    await form.get_by_label("Party size").fill("12")
    sent, booking = await written(
        page, lambda: form.get_by_role("button", name="Book").click(), "/admin/bookings"
    )
    assert sorted(sent["table_ids"]) == sorted([by_name["T5"], by_name["T6"]])
    assert sorted(booking["table_ids"]) == sorted([by_name["T5"], by_name["T6"]])
    for name in ("T5", "T6"):
        await expect(table_in(page, "floor-svg", by_name[name])).to_have_attribute(
            "data-status", "booked"
        )
    await screenshot(page, "joined-tables")

    # Too many for any one table, and no table named: the smallest combination that fits.
    await choice.select_option("")
    await form.get_by_label("Time").fill("21:30")
    await form.get_by_label("Guest name").fill("Long table")
    await form.get_by_label("Party size").fill("11")
    sent, booking = await written(
        page, lambda: form.get_by_role("button", name="Book").click(), "/admin/bookings"
    )
    assert "table_ids" not in sent
    assert sorted(booking["table_ids"]) == sorted([by_name["T5"], by_name["T6"]])
    await expect(page.locator(f"tr[data-booking-id='{booking['id']}']")).to_contain_text("T5, T6")


async def test_staff_give_a_reason_to_book_outside_the_hours_and_may_decline_to(
    staff: Page, days: Iterator[dt.date]
) -> None:
    page = staff
    day = next(days)
    await show_floor(page, day, "20:00")
    form = page.locator("#booking-form")
    await form.get_by_label("Guest name").fill("Night owl")
    await form.get_by_label("Time").fill("04:00")
    dialog = page.locator("#reason-dialog")

    async with page.expect_response(posted("/admin/bookings")) as first:
        await form.get_by_role("button", name="Book").click()
    problem = await (await first.value).json()
    assert problem["type"].endswith("/override-required"), problem
    await expect(dialog).to_be_visible()
    await expect(dialog.locator("#reason-detail")).to_contain_text("not open")
    await dialog.get_by_role("button", name="Cancel").click()  # nothing is sent again
    await expect(dialog).to_be_hidden()
    await expect(page.locator("#booking-problem")).to_contain_text("not open")
    await expect(page.locator("#floor-bookings")).not_to_contain_text("Night owl")

    async def book() -> None:
        await form.get_by_role("button", name="Book").click()
        await expect(dialog).to_be_visible()
        await dialog.get_by_role("button", name="Override and book").click()  # no reason yet
        await expect(dialog.locator("#reason-problem")).to_contain_text("Give a reason")

    sent, booking = await written(page, book, "/admin/bookings", reason="Private party after hours")
    assert sent["override"] == {"reason": "Private party after hours"}
    assert booking["time"] == "04:00"


@pytest.mark.parametrize("page", [PHONE], indirect=True)
async def test_the_host_stand_fits_a_phone(staff: Page, own_venue: OwnVenueMaker) -> None:
    page = staff
    await choose_venue(page, await own_venue())
    await open_floor(page)
    for panel in ("#walkin-form", "#waitlist", "#booking-form"):
        await page.locator(panel).scroll_into_view_if_needed()
        box = await page.locator(panel).bounding_box()
        assert box is not None, panel
        assert 0 <= box["x"] <= box["x"] + box["width"] <= 390, (panel, box)
    add = page.locator("#waitlist-form")
    await add.get_by_label("Name").fill("Jean Rhys")
    _, entry = await written(
        page, lambda: add.get_by_role("button", name="Add to waitlist").click(), "/admin/waitlist"
    )
    row = page.locator(f"#waitlist tr[data-entry-id='{entry['id']}']")
    for action in ("Notify", "Seat", "Remove"):
        button = await row.get_by_role("button", name=action).bounding_box()
        assert button is not None, action
        assert button["x"] + button["width"] <= 390, (action, button)
        assert button["height"] >= 24, (action, button)  # big enough to tap
    wide = await page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390, wide
    await screenshot(page, "phone")
    if SHOTS:
        await page.screenshot(path=str(Path(SHOTS) / "console-phone-full.png"), full_page=True)
    await written(page, lambda: row.get_by_role("button", name="Seat").click(), "/seat")
    await expect(row).to_have_count(0)
