"""The console's tables & combinations and blocks & closures screens in a real browser:
each action round-trips to the API and shows its result; refusals are shown beside their
fields in plain words; hosts do not get these screens. Every test works in a venue of its
own (`own_venue`), on days a few days out, so neither the hour nor the date of the run
matters."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from playwright.async_api import Locator, Page, expect

from tests.api.browser import (
    PHONE,
    assert_accessible,
    choose_venue,
    minutes,
    needs_chromium,
    screenshot,
    table_in,
    venue_now,
)
from tests.api.conftest import Headers, NewUser, OwnVenue, OwnVenueMaker, host_at, signed_in

Client = AsyncTestClient[Litestar]
pytestmark = needs_chromium


def days_out(n: int) -> dt.date:
    """A day `n` days after the venue's today (London), whatever the hour of the run."""
    return venue_now().date() + dt.timedelta(days=n)


async def open_screen(page: Page, venue: OwnVenue, name: str) -> None:
    await choose_venue(page, venue)
    await page.goto(f"/console#{name}")
    await expect(page.locator(f"#{name}-title")).to_be_visible()


async def remove_after_asking(
    page: Page, row: Locator, ask: str, confirm: str, says: str | None = None
) -> None:
    """Press `ask` in `row`, see the dialog say `says`, press its `confirm`: the row goes."""
    await row.get_by_role("button", name=ask).click()
    dialog = page.locator("#confirm-dialog")
    if says is not None:
        await expect(dialog).to_contain_text(says)
    await dialog.get_by_role("button", name=confirm).click()
    await expect(row).to_have_count(0)


async def book(client: Client, admin: Headers, venue: OwnVenue, table: str, day: dt.date) -> Any:
    made = await client.post(
        f"/api/v1/venues/{venue.id}/admin/bookings/",
        json={
            "date": day.isoformat(),
            "time": "19:00",
            "party_size": 4,
            "guest_name": "Ada Lovelace",
            "table_id": venue.tables[table],
            "source": "phone",
        },
        headers={**admin, "X-Consistency-Token": venue.token},
    )
    assert made.status_code == 201, made.text
    return made.json()


# --- tables ---------------------------------------------------------------------------


async def test_a_table_is_added_edited_and_refused_in_plain_words(
    staff: Page, own_venue: OwnVenueMaker
) -> None:
    page = staff
    await open_screen(page, await own_venue(), "tables")
    rows = page.locator("#tb-rows")
    await expect(rows.locator("tr")).to_have_count(6)
    form = page.locator("#tb-form")

    # Every invalid field at once, each beside its input.
    await form.get_by_label("Name").fill("")
    await form.get_by_label("Seats").fill("0")
    await form.get_by_label("Fewest guests").fill("")
    await form.get_by_role("button", name="Add table").click()
    await expect(page.locator("#tb-problem")).to_contain_text("Check the marked fields.")
    await expect(page.locator("#tb-name-error")).to_contain_text("Give the table a name")
    await expect(page.locator("#tb-capacity-error")).to_contain_text("Seats must be a whole")
    await expect(page.locator("#tb-min-error")).to_be_visible()
    await expect(form.get_by_label("Seats")).to_have_attribute("aria-invalid", "true")

    await form.get_by_label("Name").fill("Window 7")
    await form.get_by_label("Seats").fill("6")
    await form.get_by_label("Fewest guests").fill("3")
    await form.get_by_label("Area").fill("Terrace")
    await form.get_by_label("Shape").select_option("round")
    async with page.expect_response(lambda r: r.request.method == "POST") as posted:
        await form.get_by_role("button", name="Add table").click()
    added = await (await posted.value).json()
    row = page.locator(f"tr[data-table-id='{added['id']}']")
    await expect(row).to_contain_text("Window 7")
    await expect(row).to_contain_text("Terrace")
    await expect(row).to_contain_text("round")
    await expect(page.locator("#tb-name-error")).to_have_count(0)

    await row.get_by_role("button", name="Edit Window 7").click()
    await expect(form.locator("#tb-form-title")).to_have_text("Edit Window 7")
    await expect(form.get_by_label("Seats")).to_have_value("6")
    await form.get_by_label("Seats").fill("8")
    await form.get_by_label("Fewest guests").fill("9")  # more than the seats
    await form.get_by_role("button", name="Save changes").click()
    await expect(page.locator("#tb-min-error")).to_contain_text("cannot be more than the seats")
    await form.get_by_label("Fewest guests").fill("4")
    async with page.expect_response(lambda r: r.request.method == "PUT") as put:
        await form.get_by_role("button", name="Save changes").click()
    assert (await put.value).ok
    assert (await put.value).request.post_data_json == {
        "name": "Window 7",
        "capacity": 8,
        "min_capacity": 4,
        "area": "Terrace",
        "shape": "round",
    }
    await expect(row.locator("td").nth(0)).to_have_text("8")
    await expect(row.locator("td").nth(1)).to_have_text("4")
    await expect(page.locator("#tables-status")).to_have_text("Saved Window 7.")
    await assert_accessible(page, "tables")
    await screenshot(page, "tables")


async def test_retiring_a_table_asks_and_cancels_its_bookings_only_when_told_twice(
    staff: Page, client: Client, admin: Headers, own_venue: OwnVenueMaker
) -> None:
    page = staff
    venue = await own_venue()
    booking = await book(client, admin, venue, "T4", days_out(3))
    await open_screen(page, venue, "tables")
    dialog = page.locator("#confirm-dialog")

    # A table without bookings: one confirmation; "Keep it" keeps it.
    t1 = page.locator(f"tr[data-table-id='{venue.tables['T1']}']")
    await t1.get_by_role("button", name="Retire T1").click()
    await expect(dialog).to_contain_text("Retire T1?")
    await dialog.get_by_role("button", name="Keep it").click()
    await expect(dialog).to_be_hidden()
    await expect(t1).to_be_visible()
    await remove_after_asking(page, t1, "Retire T1", "Retire T1")
    await expect(page.locator("#tables-status")).to_have_text("Retired T1.")

    # A table with a booking to come: the API refuses, the console says which booking.
    t4 = page.locator(f"tr[data-table-id='{venue.tables['T4']}']")
    await t4.get_by_role("button", name="Retire T4").click()
    await dialog.get_by_role("button", name="Retire T4").click()
    await expect(dialog).to_contain_text("T4 still has 1 booking to come")
    await expect(dialog.locator("li")).to_contain_text("19:00: party of 4, Ada Lovelace")
    await assert_accessible(page, "tables: retire dialog")
    await dialog.get_by_role("button", name="Keep the table").click()
    await expect(page.locator("#tables-problem")).to_contain_text("Not retired")
    await expect(t4).to_be_visible()

    await t4.get_by_role("button", name="Retire T4").click()
    await dialog.get_by_role("button", name="Retire T4").click()
    async with page.expect_response(lambda r: "cancel_bookings=true" in r.url) as retired:
        await dialog.get_by_role("button", name="Cancel 1 booking and retire").click()
    assert (await retired.value).ok
    await expect(t4).to_have_count(0)
    await expect(page.locator("#tables-status")).to_contain_text("cancelled 1 booking")
    after = await client.get(
        f"/api/v1/venues/{venue.id}/admin/bookings/{booking['id']}",
        headers={
            **admin,
            "X-Consistency-Token": (await retired.value).headers["x-consistency-token"],
        },
    )
    assert after.json()["status"] == "cancelled"

    await page.get_by_label("Show retired tables").check()
    await expect(t4).to_contain_text("retired")


async def test_tables_are_joined_refused_in_plain_words_and_parted(
    staff: Page, own_venue: OwnVenueMaker
) -> None:
    page = staff
    venue = await own_venue()
    await open_screen(page, venue, "tables")
    form = page.locator("#cb-form")

    # One table and a range upside down: both said at once, beside their fields.
    await form.get_by_label("T3 (4)").check()
    await form.get_by_label("Fewest guests").fill("8")
    await form.get_by_label("Most guests").fill("6")
    await form.get_by_role("button", name="Join tables").click()
    await expect(page.locator("#cb-tables-error")).to_contain_text("Pick two or more tables")
    await expect(page.locator("#cb-capacity-error")).to_contain_text("cannot be fewer")

    await form.get_by_label("T4 (4)").check()
    await form.get_by_label("Fewest guests").fill("5")
    await form.get_by_label("Most guests").fill("8")
    await form.get_by_label("Name (optional)").fill("Long table")
    await form.get_by_role("button", name="Join tables").click()
    row = page.locator("#cb-rows tr", has_text="Long table")
    await expect(row).to_contain_text("T3 + T4")
    await expect(row).to_contain_text("5\N{EN DASH}8 guests")
    await expect(page.locator("#cb-tables-error")).to_have_count(0)

    # The same tables again: the API's 409, in words naming the tables, not their ids.
    await form.get_by_label("T4 (4)").check()
    await form.get_by_label("T3 (4)").check()
    await form.get_by_label("Fewest guests").fill("4")
    await form.get_by_label("Most guests").fill("7")
    await form.get_by_role("button", name="Join tables").click()
    problem = page.locator("#cb-problem")
    await expect(problem).to_contain_text("are already combined (Long table)")
    await expect(problem).to_contain_text(re.compile(r"T4, T3|T3, T4"))
    await expect(problem).not_to_contain_text("tbl_")
    await expect(problem).not_to_contain_text("cmb_")

    await remove_after_asking(
        page,
        row,
        "Remove Long table",
        "Remove combination",
        says="T3 + T4 will no longer be offered together",
    )
    await expect(page.locator("#cb-rows")).to_contain_text("No tables are joined yet.")


# --- blocks and closures --------------------------------------------------------------


async def test_a_block_shows_on_the_floor_and_is_lifted_after_asking(
    staff: Page, own_venue: OwnVenueMaker
) -> None:
    page = staff
    venue = await own_venue()
    await open_screen(page, venue, "closures")
    form = page.locator("#bk-form")
    await expect(page.locator("#closures-problem")).to_be_hidden()
    await expect(form.get_by_label("Table").locator("option")).to_have_count(6)
    day = days_out(2)

    # Nothing filled in and an end before the start: every field says what it needs.
    await form.get_by_role("button", name="Block table").click()
    await expect(page.locator("#bk-start-date-error")).to_contain_text("Give the day it starts")
    await expect(page.locator("#bk-end-time-error")).to_contain_text("Give the time it ends")
    await form.get_by_label("Starts on").fill(day.isoformat())
    await form.get_by_label("at", exact=True).first.fill("22:00")
    await form.get_by_label("Ends on").fill(day.isoformat())
    await form.get_by_label("at", exact=True).last.fill("18:00")
    await form.get_by_role("button", name="Block table").click()
    await expect(page.locator("#bk-end-date-error")).to_contain_text("must end after it starts")

    await form.get_by_label("Table").select_option(label="T3 (4 seats)")
    await form.get_by_label("at", exact=True).first.fill("18:00")
    await form.get_by_label("at", exact=True).last.fill("22:00")
    await form.get_by_label("Reason").fill("Private party")
    async with page.expect_response(lambda r: r.request.method == "POST") as posted:
        await form.get_by_role("button", name="Block table").click()
    sent = (await posted.value).request.post_data_json
    assert sent == {
        "start": f"{day.isoformat()}T18:00",
        "end": f"{day.isoformat()}T22:00",
        "reason": "Private party",
    }
    block = await (await posted.value).json()
    row = page.locator(f"tr[data-block-id='{block['id']}']")
    await expect(row).to_contain_text("T3")
    await expect(row.locator("td").nth(0)).to_contain_text("18:00")
    await expect(row.locator("td").nth(1)).to_have_text("22:00")  # same day: the time alone
    await expect(row).to_contain_text("Private party")
    await assert_accessible(page, "closures")
    await screenshot(page, "closures")

    # The evening floor at 19:00 that day draws T3 blocked.
    await page.goto("/console#floor")
    await expect(page.locator("#floor-svg g.table").first).to_be_visible()
    await page.locator("#floor-date").fill(day.isoformat())
    await page.locator("#floor-time").fill("19:00")
    await page.get_by_role("button", name="Show").click()
    t3 = table_in(page, "floor-svg", venue.tables["T3"])
    await expect(t3).to_have_attribute("data-status", "blocked")

    await page.goto("/console#closures")
    await remove_after_asking(
        page, row, "Lift the block of T3", "Lift block", says="T3 can be booked again"
    )
    await expect(page.locator("#closures-status")).to_contain_text("Lifted the block of T3")


async def test_the_quick_spans_start_at_the_venues_now(
    staff: Page, own_venue: OwnVenueMaker
) -> None:
    page = staff
    await open_screen(page, await own_venue(), "closures")
    form = page.locator("#bk-form")
    value = form.locator

    async def moment(which: str) -> dt.datetime:
        date = await value(f"#bk-{which}-date").input_value()
        time = await value(f"#bk-{which}-time").input_value()
        return dt.datetime.fromisoformat(f"{date}T{time}")

    async def span() -> tuple[dt.datetime, dt.datetime]:
        return await moment("start"), await moment("end")

    before = venue_now().replace(second=0, microsecond=0, tzinfo=None)
    await form.get_by_role("button", name="Next 2 hours").click()
    start, end = await span()
    after = venue_now().replace(second=0, microsecond=0, tzinfo=None)
    assert before <= start <= after, (before, start, after)  # the venue's clock, to the minute
    assert end - start == dt.timedelta(hours=2)

    # The venue is open until 23:59 every day: "rest of tonight" ends there.
    await form.get_by_role("button", name="Rest of tonight").click()
    start, end = await span()
    assert before <= start <= venue_now().replace(tzinfo=None)
    at_close = start.hour == 23 and start.minute == 59  # the shift is over: until midnight
    expected = (
        (start.date() + dt.timedelta(days=1), 0) if at_close else (start.date(), 23 * 60 + 59)
    )
    assert (end.date(), minutes(end.strftime("%H:%M"))) == expected


async def test_a_day_is_closed_and_reopened_after_asking(
    staff: Page, own_venue: OwnVenueMaker
) -> None:
    page = staff
    await open_screen(page, await own_venue(), "closures")
    form = page.locator("#cl-form")
    await form.get_by_role("button", name="Close the day").click()
    await expect(page.locator("#cl-date-error")).to_contain_text("Choose the day to close")

    day = days_out(4)
    await form.get_by_label("Date").fill(day.isoformat())
    await form.get_by_label("Reason").fill("Staff party")
    await form.get_by_role("button", name="Close the day").click()
    row = page.locator(f"tr[data-closure-date='{day.isoformat()}']")
    await expect(row).to_contain_text("Staff party")
    await expect(row).to_contain_text(f"{day.day} {day.strftime('%b')} {day.year}")
    await expect(page.locator("#cl-date-error")).to_have_count(0)

    await row.get_by_role("button", name="Reopen").click()
    dialog = page.locator("#confirm-dialog")
    await dialog.get_by_role("button", name="Keep it").click()
    await expect(row).to_be_visible()
    await remove_after_asking(page, row, "Reopen", "Reopen the day")
    await expect(page.locator("#cl-rows")).to_contain_text("No closed days to come.")


# --- who sees them, and where ---------------------------------------------------------


async def test_a_host_has_neither_screen_and_is_shown_the_floor(
    page: Page, client: Client, admin: Headers, new_user: NewUser, own_venue: OwnVenueMaker
) -> None:
    venue = await own_venue()
    await signed_in(page, await host_at(client, admin, new_user, venue.id, "Grace Hopper"))
    await choose_venue(page, venue)
    await page.goto("/console#tables")
    await expect(page.locator("#floor")).to_be_visible()
    await expect(page.locator("#tables")).to_be_hidden()
    await expect(page.locator('#nav button[data-screen="floor"]')).to_be_visible()
    for name in ("tables", "closures"):
        await expect(page.locator(f'#nav button[data-screen="{name}"]')).to_have_count(0)
    await page.goto("/console#closures")
    await expect(page.locator("#closures")).to_be_hidden()
    await expect(page.locator("#floor")).to_be_visible()


@pytest.mark.parametrize("page", [PHONE], indirect=True)
async def test_both_screens_fit_a_phone(staff: Page, own_venue: OwnVenueMaker) -> None:
    page = staff
    venue = await own_venue()
    for name, button in (("tables", "Retire T1"), ("closures", "Block table")):
        await open_screen(page, venue, name)
        await expect(page.get_by_role("button", name=button)).to_be_visible()
        wide = await page.evaluate("document.documentElement.scrollWidth")
        assert wide <= 390, (name, wide)
        tap = await page.get_by_role("button", name=button).bounding_box()
        assert tap is not None, name
        assert tap["height"] >= 24, (name, tap)  # big enough to tap
        assert 0 <= tap["x"] <= tap["x"] + tap["width"] <= 390, (name, tap)  # on screen
        await assert_accessible(page, f"{name} on a phone")
