"""The console's opening hours and time slots screen in a real browser, on a venue of
each test's own: what it loads, what one save writes, and how a refusal is shown beside
each field at fault, with nothing saved."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from playwright.async_api import Locator, Page, Response, expect

from tests.api.browser import (
    PHONE,
    TABLET,
    assert_accessible,
    choose_venue,
    needs_chromium,
    screenshot,
)
from tests.api.conftest import Headers, OwnVenue, OwnVenueMaker

Client = AsyncTestClient[Litestar]
pytestmark = needs_chromium


def admin_path(venue: OwnVenue, what: str) -> str:
    return f"/api/v1/venues/{venue.id}/admin/{what}"


async def read(client: Client, admin: Headers, venue: OwnVenue, what: str, token: str) -> Any:
    answer = await client.get(
        admin_path(venue, what), headers={**admin, "X-Consistency-Token": token}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def put_answer(path: str) -> Any:
    return lambda r: r.request.method == "PUT" and r.url.split("?")[0].endswith(path)


async def open_hours(page: Page, own_venue: OwnVenueMaker) -> OwnVenue:
    """A venue of the test's own, its hours screen open on `page`."""
    venue = await own_venue()
    await choose_venue(page, venue)
    await page.goto("/console#hours")
    await expect(page.locator("#hours-title")).to_have_text("Opening hours & time slots")
    await expect(page.locator("#hours-form [name='monday[0].open']")).to_have_value("00:00")
    return venue


async def put_by(page: Page, path: str, act: Callable[[], Awaitable[None]]) -> Response:
    """The answer to the `PUT` to `path` that `act` sends."""
    async with page.expect_response(put_answer(path)) as answer:
        await act()
    return await answer.value


async def expect_refused_beside(form: Locator, errors: dict[str, str]) -> None:
    """Each input (by id) is marked invalid and says its error; no other input does."""
    for input_id, says in errors.items():
        await expect(form.locator(f"#{input_id}")).to_have_attribute("aria-invalid", "true")
        await expect(form.locator(f"#{input_id}-error")).to_have_text(says)
    await expect(form.locator(".field-error")).to_have_count(len(errors))


async def test_the_screen_shows_the_venues_hours_and_a_shift_past_midnight_saves(
    staff: Page, own_venue: OwnVenueMaker, client: Client, admin: Headers
) -> None:
    venue = await open_hours(staff, own_venue)
    form = staff.locator("#hours-form")
    friday = form.locator("[data-day='friday']")
    await expect(form.locator("[name='sunday[0].close']")).to_have_value("23:59")
    await expect(form.locator(".hours-next").first).to_be_hidden()
    await expect(staff.locator("#slots-summary")).to_contain_text(
        "Parties of 1 to 2 stay 90 minutes, parties of 3 to 8 stay 2 hours"
    )

    # Friday: lunch until 15:00, then a late shift from 18:00 to 02:00 the next day.
    await friday.get_by_label("Closes").fill("15:00")
    await friday.get_by_role("button", name="Add a shift on Friday").click()
    await form.locator("[name='friday[1].open']").fill("18:00")
    await form.locator("[name='friday[1].close']").fill("02:00")
    await expect(friday.locator(".hours-next").nth(1)).to_be_visible()
    await expect(friday.locator(".hours-next").nth(1)).to_have_text("→ next day")
    await expect(friday.locator(".hours-next").first).to_be_hidden()
    await expect(staff.locator("#hours-unsaved")).to_have_text("● Unsaved changes")
    # ...and Saturday closed, so the night shift has the small hours to itself.
    await form.get_by_role("button", name="Remove Saturday's shift 1").click()
    await expect(form.locator("[data-day='saturday']")).to_contain_text("Closed")
    await screenshot(staff, "hours")

    save = form.get_by_role("button", name="Save opening hours")
    answer = await put_by(staff, "/operating-hours", save.click)
    assert answer.status == 200, await answer.text()
    await expect(staff.locator("#hours-unsaved")).to_have_text("✓ Saved")

    stored = await read(
        client, admin, venue, "operating-hours", answer.headers["x-consistency-token"]
    )
    assert stored["friday"] == [
        {"open": "00:00", "close": "15:00"},
        {"open": "18:00", "close": "02:00"},
    ]
    assert stored["saturday"] == []
    assert stored["thursday"] == [{"open": "00:00", "close": "23:59"}]

    await staff.reload()
    await expect(form.locator("[name='friday[1].close']")).to_have_value("02:00")
    await expect(friday.locator(".hours-next").nth(1)).to_be_visible()
    await expect(form.locator("[data-day='saturday']")).to_contain_text("Closed")
    await assert_accessible(staff, "hours")


async def test_overlapping_shifts_are_each_refused_beside_their_own_input_and_nothing_saves(
    staff: Page, own_venue: OwnVenueMaker, client: Client, admin: Headers
) -> None:
    venue = await open_hours(staff, own_venue)
    form = staff.locator("#hours-form")
    # Monday: a second shift inside the first; Tuesday's shift runs past midnight into
    # Wednesday's, which opens at 00:00.
    await form.get_by_role("button", name="Add a shift on Monday").click()
    await form.locator("[name='monday[1].open']").fill("12:00")
    await form.locator("[name='monday[1].close']").fill("14:00")
    await form.locator("[name='tuesday[0].open']").fill("20:00")
    await form.locator("[name='tuesday[0].close']").fill("03:00")

    tuesday_close = form.locator("[name='tuesday[0].close']")
    sent = await put_by(staff, "/operating-hours", lambda: tuesday_close.press("Control+s"))
    assert sent.status == 422

    await expect_refused_beside(
        form,
        {
            "hours-monday-1-open": "Overlaps Monday's 00:00-23:59.",
            "hours-wednesday-0-open": "Overlaps Tuesday's 20:00-03:00.",
        },
    )
    await expect(form.locator(".problem")).to_contain_text("Check the marked fields.")
    await expect(staff.locator("#hours-unsaved")).to_have_text("● Unsaved changes")
    await assert_accessible(staff, "hours with errors")

    stored = await read(client, admin, venue, "operating-hours", venue.token)
    assert stored["monday"] == [{"open": "00:00", "close": "23:59"}]
    assert stored["tuesday"] == [{"open": "00:00", "close": "23:59"}]


async def test_time_slots_with_a_new_turn_time_and_a_pacing_rule_round_trip(
    staff: Page, own_venue: OwnVenueMaker, client: Client, admin: Headers
) -> None:
    venue = await open_hours(staff, own_venue)
    form = staff.locator("#slots-form")
    await expect(form.get_by_label("The venue's time zone")).to_have_value("Europe/London")

    await form.get_by_label("Start times every (minutes)").fill("30")
    await form.get_by_label("Table reset between parties (minutes)").fill("15")
    await form.get_by_label("Notice guests must give (minutes)").fill("60")
    await form.get_by_label("Guests may book up to (days ahead)").fill("90")
    # A row for parties of up to 4, added last: saved in order of party size.
    await form.get_by_role("button", name="+ Add turn time").click()
    await form.locator("[name='turn_times[2].max_party_size']").fill("4")
    await form.locator("[name='turn_times[2].minutes']").fill("105")
    await form.get_by_role("button", name="+ Add pacing rule").click()
    await form.get_by_label("On", exact=True).select_option("friday")
    await form.get_by_label("From (empty: opening)").fill("18:00")
    await form.get_by_label("To (empty: close)").fill("21:00")
    await form.get_by_label("At most guests").fill("20")
    await form.get_by_label("In any (minutes)").fill("30")
    summary = staff.locator("#slots-summary")
    await expect(summary).to_contain_text(
        "Guests may book from 1 hour ahead and up to 90 days ahead."
    )
    await expect(summary).to_contain_text("then 15 minutes to reset the table")
    await expect(summary).to_contain_text(
        "On Fridays from 18:00 to 21:00, at most 20 guests may arrive in any 30 minutes."
    )
    await expect(staff.locator("#slots-unsaved")).to_have_text("● Unsaved changes")

    save = form.get_by_role("button", name="Save time slots")
    answer = await put_by(staff, "/time-slots", save.click)
    assert answer.status == 200, await answer.text()
    await expect(staff.locator("#slots-unsaved")).to_have_text("✓ Saved")

    stored = await read(client, admin, venue, "time-slots", answer.headers["x-consistency-token"])
    assert stored == {
        "interval_minutes": 30,
        "turn_times": [
            {"max_party_size": 2, "minutes": 90},
            {"max_party_size": 4, "minutes": 105},
            {"max_party_size": 8, "minutes": 120},
        ],
        "buffer_minutes": 15,
        "min_lead_minutes": 60,
        "max_days_ahead": 90,
        "time_zone": "Europe/London",
        "pacing": [
            {
                "per_minutes": 30,
                "weekday": "friday",
                "from": "18:00",
                "to": "21:00",
                "max_covers": 20,
            }
        ],
    }

    await staff.reload()
    await expect(form.locator("[name='turn_times[1].minutes']")).to_have_value("105")
    await expect(form.locator("[name='pacing[0].weekday']")).to_have_value("friday")
    await expect(form.locator("[name='pacing[0].max_covers']")).to_have_value("20")
    await expect(staff.locator("#slots-unsaved")).to_be_empty()


async def test_a_turn_of_no_time_and_a_bad_pacing_rule_are_refused_beside_their_fields(
    staff: Page, own_venue: OwnVenueMaker, client: Client, admin: Headers
) -> None:
    venue = await open_hours(staff, own_venue)
    form = staff.locator("#slots-form")
    await form.locator("[name='turn_times[0].minutes']").fill("0")
    await form.get_by_label("Start times every (minutes)").fill("0")
    await form.get_by_role("button", name="+ Add pacing rule").click()
    await form.get_by_label("At most guests").fill("")
    await form.get_by_label("From (empty: opening)").fill("21:00")
    await form.get_by_label("To (empty: close)").fill("18:00")

    save = form.get_by_role("button", name="Save time slots")
    assert (await put_by(staff, "/time-slots", save.click)).status == 422

    errors = {
        "slots-turn-0-minutes": "Must be from 1 to 1440.",
        "slots-interval": "Must be from 1 to 240.",
        "slots-pacing-0-covers": "Give a limit on guests (max_covers), on parties"
        " (max_bookings), or both.",
        "slots-pacing-0-to": "Must be after the start (from); a rule covers a range"
        " within one day.",
    }
    await expect_refused_beside(form, errors)

    stored = await read(client, admin, venue, "time-slots", venue.token)
    assert stored["turn_times"][0] == {"max_party_size": 2, "minutes": 90}
    assert stored["interval_minutes"] == 15
    assert stored["pacing"] == []


async def test_leaving_with_unsaved_changes_asks_first(
    staff: Page, own_venue: OwnVenueMaker
) -> None:
    await open_hours(staff, own_venue)
    await staff.locator("[name='monday[0].close']").fill("22:00")

    await staff.locator("#nav").get_by_role("button", name="Tables").click()
    leave = staff.locator("#confirm-dialog")
    await expect(leave).to_be_visible()
    await leave.get_by_role("button", name="Stay and keep editing").click()
    await expect(leave).to_be_hidden()
    await expect(staff.locator("#hours")).to_be_visible()
    await expect(staff.locator("[name='monday[0].close']")).to_have_value("22:00")
    assert staff.url.endswith("#hours")

    # Away by another way than the navigation (Back, a search): asked once there, and
    # staying comes back with the edits kept.
    await staff.evaluate("location.hash = 'timeline'")
    await expect(leave).to_be_visible()
    await leave.get_by_role("button", name="Stay and keep editing").click()
    await expect(staff.locator("#hours")).to_be_visible()
    await expect(staff.locator("[name='monday[0].close']")).to_have_value("22:00")

    await staff.locator("#nav").get_by_role("button", name="Tables").click()
    await leave.get_by_role("button", name="Leave without saving").click()
    await expect(staff.locator("#tables")).to_be_visible()
    await expect(staff.locator("#hours")).to_be_hidden()
    await expect(leave).to_be_hidden()


@pytest.mark.parametrize("page", [PHONE, TABLET], indirect=True)
async def test_the_screen_fits_a_phone_and_a_tablet_without_sideways_scrolling(
    staff: Page, own_venue: OwnVenueMaker
) -> None:
    await open_hours(staff, own_venue)
    await staff.locator("#slots-form").get_by_role("button", name="+ Add pacing rule").click()
    await expect(staff.locator("#slots-pacing .hours-pacing-rule")).to_have_count(1)

    overflow = await staff.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    await assert_accessible(staff, "hours on a small screen")
