"""The booking detail, the floor's actions on a booking, and search, in a real browser.

Each test works in a venue of its own (`own_venue`), on days no other test books.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from playwright.async_api import Locator, Page, expect

from tests.api.browser import (
    PHONE,
    TABLET,
    assert_accessible,
    choose_venue,
    needs_chromium,
    screenshot,
    show_floor,
    table_in,
    written,
)
from tests.api.conftest import (
    Headers,
    NewUser,
    OwnVenue,
    OwnVenueMaker,
    World,
    booked_before,
    host_at,
    signed_in,
)

Client = AsyncTestClient[Litestar]
pytestmark = needs_chromium


async def booked(
    client: Client,
    admin: Headers,
    venue: OwnVenue,
    day: dt.date,
    at: str = "19:00",
    *,
    table: str = "T2",
    party: int = 2,
    **details: str,
) -> dict[str, Any]:
    """A phone booking at the venue, taken through the API by the admin."""
    body: dict[str, Any] = {
        "date": day.isoformat(),
        "time": at,
        "party_size": party,
        "guest_name": details.pop("guest_name", "Zora Hurston"),
        "table_ids": [venue.tables[table]],
        "source": "phone",
        **details,
    }
    response = await client.post(
        f"/api/v1/venues/{venue.id}/admin/bookings",
        json=body,
        headers={**admin, "X-Consistency-Token": venue.token},
    )
    assert response.status_code == 201, response.text
    token = response.headers["X-Consistency-Token"]
    await read_back(client, admin, venue, response.json()["id"], token)
    return dict(response.json(), consistency=token)


async def read_back(
    client: Client, admin: Headers, venue: OwnVenue, booking_id: str, token: str | None
) -> None:
    """Wait until the read models the console reads have the booking as written: with the
    write's token, or (for a booking written to the store directly) until it shows."""
    if token is not None:
        await as_booked(client, admin, venue, booking_id, token)
        return
    path = f"/api/v1/venues/{venue.id}/admin/bookings/{booking_id}"
    deadline = time.monotonic() + 5
    while (await client.get(path, headers=admin)).status_code != 200:
        assert time.monotonic() < deadline, f"{booking_id} never reached the read model"
        await asyncio.sleep(0.05)


async def started_booking(
    client: Client, admin: Headers, world: World, venue: OwnVenue, day: dt.date, **details: Any
) -> str:
    """A booking at 12:00 on T1 whose start has passed (placed the day before it)."""
    booking_id = await booked_before(
        world, venue.id, day, table_ids=(venue.tables["T1"],), **details
    )
    await read_back(client, admin, venue, booking_id, None)
    return booking_id


@pytest.fixture
async def venue(own_venue: OwnVenueMaker) -> OwnVenue:
    """The test's own venue."""
    return await own_venue()


async def as_booked(
    client: Client, admin: Headers, venue: OwnVenue, booking_id: str, token: str | None
) -> dict[str, Any]:
    """The booking as the admin reads it: after the write whose token is given, or now."""
    headers = admin if token is None else {**admin, "X-Consistency-Token": token}
    response = await client.get(
        f"/api/v1/venues/{venue.id}/admin/bookings/{booking_id}", headers=headers
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def open_booked(
    page: Page, client: Client, admin: Headers, venue: OwnVenue, day: dt.date, **details: Any
) -> tuple[dict[str, Any], Locator]:
    """A booking (`booked`) on `day`, and its detail opened in the console on the venue."""
    booking = await booked(client, admin, venue, day, **details)
    await console(page, venue)
    return booking, await open_detail(page, booking["id"])


async def open_detail(page: Page, booking_id: str) -> Locator:
    """The booking's detail, opened as any screen opens it; waits for its history."""
    await page.evaluate(
        "id => document.dispatchEvent(new CustomEvent('tablebook:open-booking', {detail: {id}}))",
        booking_id,
    )
    dialog = page.locator("#booking-dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog.locator("#bd-history li").first).to_be_visible()
    return dialog


async def console(page: Page, venue: OwnVenue, screen: str = "floor") -> None:
    await choose_venue(page, venue)
    await page.goto(f"/console#{screen}")
    await expect(page.locator("#search-input")).to_be_visible()


# --- the detail -------------------------------------------------------------------------


async def test_the_detail_shows_how_to_reach_the_guest_and_their_requests(
    staff: Page,
    client: Client,
    admin: Headers,
    world: World,
    days: Iterator[dt.date],
    venue: OwnVenue,
) -> None:
    page = staff
    day = next(days)
    phone, email = "+44 20 7946 0101", "grace@example.com"
    earlier = await started_booking(
        client,
        admin,
        world,
        venue,
        dt.date.today() - dt.timedelta(days=30),
        guest_name="Grace Hopper",
        guest_phone=phone,
        guest_email=email,  # one guest to the venue: their email names them in both
    )
    missed = await client.post(
        f"/api/v1/venues/{venue.id}/admin/bookings/{earlier}/no-show", headers=admin
    )
    assert missed.status_code == 200, missed.text
    _, dialog = await open_booked(
        page,
        client,
        admin,
        venue,
        day,
        guest_name="Grace Hopper",
        guest_phone=phone,
        guest_email=email,
        special_requests="Arriving by wheelchair",
        party=3,
        table="T3",
    )

    await expect(dialog.locator("#bd-title")).to_have_text("Grace Hopper")
    await expect(dialog.locator("#bd-requests")).to_contain_text("Arriving by wheelchair")
    await expect(dialog.get_by_role("link", name=phone)).to_have_attribute(
        "href", "tel:+442079460101"
    )
    await expect(dialog.get_by_role("link", name=email)).to_have_attribute(
        "href", f"mailto:{email}"
    )
    summary = dialog.locator("#bd-summary")
    for text in ("confirmed", "party of 3", "19:00\N{EN DASH}", "T3", "phone"):
        await expect(summary).to_contain_text(text)
    # What the earlier booking (found by the phone, or the guest's profile) says of them.
    guest = dialog.locator("#bd-guest")
    await expect(guest).to_contain_text("No-shows1")
    history = dialog.locator("#bd-history")
    await expect(history).to_contain_text("Booked by Ada Admin (you)")
    await expect(dialog.get_by_role("button", name="Seat")).to_be_visible()
    await expect(dialog.get_by_role("button", name="Complete")).to_have_count(0)
    await assert_accessible(page, "booking detail")
    await screenshot(page, "booking-detail")
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()


async def test_seating_early_asks_why_and_the_history_shows_who_and_the_reason_then_complete(
    staff: Page,
    client: Client,
    admin: Headers,
    days: Iterator[dt.date],
    venue: OwnVenue,
) -> None:
    page = staff
    _, dialog = await open_booked(page, client, admin, venue, next(days), guest_name="Walt Whitman")

    # Days ahead: seating now sets the seating window aside, with a reason.
    _, seated = await written(
        page,
        lambda: dialog.get_by_role("button", name="Seat").click(),
        "/seat",
        reason="Came days early for the festival",
    )
    assert seated["status"] == "seated"
    await expect(dialog.locator("#bd-summary")).to_contain_text("seated")
    history = dialog.locator("#bd-history")
    await expect(history.locator("li[data-type=BookingSeated]")).to_contain_text(
        "Seated by Ada Admin (you)"
    )
    await expect(history.locator(".bd-override")).to_contain_text(
        "Override: Came days early for the festival"
    )

    # Completing asks first; declining sends nothing.
    confirm = page.locator("#confirm-dialog")
    await dialog.get_by_role("button", name="Complete").click()
    await expect(confirm).to_contain_text("Walt Whitman")
    await confirm.get_by_role("button", name="Keep it").click()
    await expect(confirm).to_be_hidden()
    await expect(dialog.locator("#bd-summary")).to_contain_text("seated")
    _, done = await written(
        page,
        lambda: _click_then_confirm(dialog, confirm, "Complete", "Complete"),
        "/complete",
    )
    assert done["status"] == "completed"
    await expect(dialog.locator("#bd-summary")).to_contain_text("completed")
    await expect(dialog.locator("#bd-steps")).to_contain_text("Nothing more to do")


async def _click_then_confirm(dialog: Locator, confirm: Locator, button: str, yes: str) -> None:
    await dialog.get_by_role("button", name=button, exact=True).click()
    await expect(confirm).to_be_visible()
    await confirm.get_by_role("button", name=yes, exact=True).click()


async def test_an_edit_round_trips_with_if_match_and_shows_the_change(
    staff: Page,
    client: Client,
    admin: Headers,
    days: Iterator[dt.date],
    venue: OwnVenue,
) -> None:
    page = staff
    booking, dialog = await open_booked(
        page, client, admin, venue, next(days), guest_name="Nella Larsen"
    )
    await dialog.get_by_text("Edit booking").click()
    form = dialog.locator("#bd-edit-form")
    await form.get_by_label("Party size").fill("4")
    await form.get_by_label("Table").select_option(label="T4 (4 seats)")
    await form.get_by_label("Special requests").fill("Birthday cake at 20:00")

    async with page.expect_response(lambda r: r.request.method == "PUT") as answer:
        await form.get_by_role("button", name="Save changes").click()
    response = await answer.value
    sent = response.request
    assert sent.headers["if-match"] == f'"{booking["version"]}"'
    assert sent.post_data_json == {
        "party_size": 4,
        "special_requests": "Birthday cake at 20:00",
        "table_ids": [venue.tables["T4"]],
    }
    await expect(dialog.locator("#bd-status")).to_have_text("Saved.")
    await expect(dialog.locator("#bd-summary")).to_contain_text("party of 4")
    await expect(dialog.locator("#bd-summary")).to_contain_text("T4")
    await expect(dialog.locator("#bd-requests")).to_contain_text("Birthday cake")
    await expect(dialog.locator("#bd-history li[data-type=BookingChanged]")).to_contain_text(
        "Changed by Ada Admin (you)"
    )
    token = await response.header_value("X-Consistency-Token")
    now = await as_booked(client, admin, venue, booking["id"], str(token))
    assert (now["party_size"], now["table_ids"]) == (4, [venue.tables["T4"]])


async def test_an_invalid_edit_shows_each_refusal_beside_its_field_in_plain_words(
    staff: Page,
    client: Client,
    admin: Headers,
    days: Iterator[dt.date],
    venue: OwnVenue,
) -> None:
    page = staff
    booking, dialog = await open_booked(
        page, client, admin, venue, next(days), guest_name="Jean Toomer"
    )
    await dialog.get_by_text("Edit booking").click()
    form = dialog.locator("#bd-edit-form")
    await form.get_by_label("Phone").fill("call me maybe")
    await form.get_by_label("Email").fill("not an address")
    await form.get_by_role("button", name="Save changes").click()

    for field in ("#bd-phone", "#bd-email"):
        await expect(form.locator(field)).to_have_attribute("aria-invalid", "true")
        error = form.locator(f"{field}-error")
        await expect(error).to_be_visible()
        await expect(error).not_to_contain_text("regex")
        await expect(error).not_to_contain_text("Expected")
    await expect(form.locator("#bd-edit-problem")).to_contain_text("Check the marked fields")
    await assert_accessible(page, "booking detail, refused edit")
    still = await as_booked(client, admin, venue, booking["id"], None)
    assert still["version"] == booking["version"]


async def test_a_change_made_meanwhile_reloads_the_booking_and_says_so(
    staff: Page,
    client: Client,
    admin: Headers,
    days: Iterator[dt.date],
    venue: OwnVenue,
) -> None:
    page = staff
    booking, dialog = await open_booked(
        page, client, admin, venue, next(days), guest_name="Claude McKay"
    )
    elsewhere = await client.put(
        f"/api/v1/venues/{venue.id}/bookings/{booking['id']}",
        json={"special_requests": "Window seat"},
        headers={**admin, "If-Match": f'"{booking["version"]}"'},
    )
    assert elsewhere.status_code == 200, elsewhere.text
    await dialog.get_by_text("Edit booking").click()
    form = dialog.locator("#bd-edit-form")
    await form.get_by_label("Guest name").fill("Claude McKay Jr")
    await form.get_by_role("button", name="Save changes").click()
    await expect(form.locator("#bd-edit-problem")).to_contain_text("Someone else changed")
    await expect(dialog.locator("#bd-requests")).to_contain_text("Window seat")
    await expect(dialog.locator("#bd-title")).to_have_text("Claude McKay")


async def test_a_booking_moves_to_another_table_that_fits(
    staff: Page,
    client: Client,
    admin: Headers,
    days: Iterator[dt.date],
    venue: OwnVenue,
) -> None:
    page = staff
    booking, dialog = await open_booked(
        page, client, admin, venue, next(days), guest_name="Countee Cullen"
    )
    choice = dialog.get_by_label("Move to table")
    await expect(choice.locator(f"option[value='{venue.tables['T2']}']")).to_have_count(0)
    await choice.select_option(venue.tables["T3"])
    async with page.expect_response(lambda r: r.request.method == "PUT") as answer:
        await dialog.get_by_role("button", name="Move").click()
    response = await answer.value
    assert response.ok
    await expect(dialog.locator("#bd-status")).to_have_text("Moved to T3.")
    await expect(dialog.locator("#bd-summary")).to_contain_text("T3")
    token = await response.header_value("X-Consistency-Token")
    moved = await as_booked(client, admin, venue, booking["id"], str(token))
    assert moved["table_ids"] == [venue.tables["T3"]]


async def test_a_no_show_asks_first_and_declining_leaves_the_booking(
    staff: Page,
    client: Client,
    admin: Headers,
    world: World,
    days: Iterator[dt.date],
    venue: OwnVenue,
) -> None:
    page = staff
    booking_id = await started_booking(
        client,
        admin,
        world,
        venue,
        dt.date.today() - dt.timedelta(days=2),
        guest_name="Arna Bontemps",
    )
    await console(page, venue)
    dialog = await open_detail(page, booking_id)
    confirm = page.locator("#confirm-dialog")
    await dialog.get_by_role("button", name="No-show").click()
    await expect(confirm).to_contain_text("Arna Bontemps")
    await expect(confirm).to_contain_text("12:00")
    await confirm.get_by_role("button", name="Keep it").click()
    await expect(confirm).to_be_hidden()
    await expect(dialog.locator("#bd-summary")).to_contain_text("confirmed")
    history = await client.get(
        f"/api/v1/venues/{venue.id}/bookings/{booking_id}/history", headers=admin
    )
    assert [e["type"] for e in history.json()] == ["BookingPlaced"]

    async with page.expect_response(lambda r: r.url.endswith("/no-show")) as response:
        await _click_then_confirm(dialog, confirm, "No-show", "Mark no-show")
    assert (await response.value).ok
    await expect(dialog.locator("#bd-summary")).to_contain_text("no-show")
    await expect(dialog.locator("#bd-history li[data-type=BookingMarkedNoShow]")).to_be_visible()


async def test_a_host_reads_the_history_and_completes_a_visit_after_confirming(
    page: Page,
    client: Client,
    admin: Headers,
    new_user: NewUser,
    days: Iterator[dt.date],
    venue: OwnVenue,
) -> None:
    """A host may not list the venue's staff: the history names the admin by account, and
    the console does not ask for the list."""
    host = await host_at(client, admin, new_user, venue.id)
    booking = await booked(client, admin, venue, next(days), guest_name="Dorothy West")
    seated = await client.post(
        f"/api/v1/venues/{venue.id}/admin/bookings/{booking['id']}/seat",
        json={"override": {"reason": "Regulars, early"}},
        headers=admin,
    )
    assert seated.status_code == 200, seated.text
    await read_back(client, admin, venue, booking["id"], seated.headers["X-Consistency-Token"])
    await signed_in(page, host)
    asked_for_staff: list[str] = []
    page.on("request", lambda r: asked_for_staff.append(r.url) if "/staff" in r.url else None)
    await console(page, venue)

    dialog = await open_detail(page, booking["id"])
    seating = dialog.locator("#bd-history li[data-type=BookingSeated]")
    await expect(seating).to_contain_text("Seated by user ")
    await expect(seating.locator(".bd-override")).to_have_text("⚠ Override: Regulars, early")
    assert asked_for_staff == []
    await expect(dialog.get_by_role("button", name="Cancel")).to_have_count(0)  # seated
    _, done = await written(
        page,
        lambda: _click_then_confirm(
            dialog, page.locator("#confirm-dialog"), "Complete", "Complete"
        ),
        "/complete",
    )
    assert done["status"] == "completed"
    await expect(dialog.locator("#bd-history li[data-type=BookingCompleted]")).to_contain_text(
        "Completed by Hattie Host (you)"
    )


# --- the evening floor ------------------------------------------------------------------


async def test_on_the_floor_a_booked_table_opens_its_booking_and_a_free_one_is_picked(
    staff: Page,
    client: Client,
    admin: Headers,
    days: Iterator[dt.date],
    venue: OwnVenue,
) -> None:
    page = staff
    day = next(days)
    booking = await booked(
        client,
        admin,
        venue,
        day,
        guest_name="Langston Hughes",
        guest_phone="+44 20 7946 0202",
        special_requests="Arriving by wheelchair",
    )
    await choose_venue(page, venue)
    await show_floor(page, day, "19:00")
    row = page.locator(f"tr[data-booking-id='{booking['id']}']")
    await expect(row.locator(".bk-contact")).to_have_text("☎ +44 20 7946 0202")
    await expect(row.locator(".bk-requests")).to_have_text("⚑ Arriving by wheelchair")

    await table_in(page, "floor-svg", venue.tables["T2"]).click()
    dialog = page.locator("#booking-dialog")
    await expect(dialog.locator("#bd-title")).to_have_text("Langston Hughes")
    await dialog.get_by_role("button", name="Close").click()
    await expect(dialog).to_be_hidden()

    free = table_in(page, "floor-svg", venue.tables["T1"])
    await free.click()
    await expect(free).to_have_attribute("aria-pressed", "true")
    await expect(dialog).to_be_hidden()
    await row.get_by_role("button", name="Langston Hughes", exact=True).click()
    await expect(dialog.locator("#bd-title")).to_have_text("Langston Hughes")

    # A move in the detail shows on the floor behind it.
    await dialog.get_by_label("Move to table").select_option(venue.tables["T3"])
    await dialog.get_by_role("button", name="Move").click()
    await expect(dialog.locator("#bd-status")).to_have_text("Moved to T3.")
    await expect(table_in(page, "floor-svg", venue.tables["T3"])).to_have_attribute(
        "data-status", "booked"
    )
    await expect(table_in(page, "floor-svg", venue.tables["T2"])).to_have_attribute(
        "data-status", "available"
    )
    await expect(row).to_contain_text("T3")


async def test_cancel_on_the_floor_asks_first_and_only_cancels_when_confirmed(
    staff: Page,
    client: Client,
    admin: Headers,
    days: Iterator[dt.date],
    venue: OwnVenue,
) -> None:
    page = staff
    day = next(days)
    booking = await booked(client, admin, venue, day, guest_name="Jessie Fauset")
    await choose_venue(page, venue)
    await show_floor(page, day, "19:00")
    row = page.locator(f"tr[data-booking-id='{booking['id']}']")
    confirm = page.locator("#confirm-dialog")
    await row.get_by_role("button", name="Cancel").click()
    await expect(confirm).to_contain_text("Jessie Fauset")
    await expect(confirm).to_contain_text("19:00")
    await confirm.get_by_role("button", name="Keep it").click()
    await expect(confirm).to_be_hidden()
    await expect(row.locator(".bk-status")).to_have_text("confirmed")
    await expect(page.locator("#booking-dialog")).to_be_hidden()

    async with page.expect_response(lambda r: r.request.method == "DELETE") as response:
        await row.get_by_role("button", name="Cancel").click()
        await confirm.get_by_role("button", name="Cancel booking").click()
    assert (await response.value).ok
    await expect(row.locator(".bk-status")).to_have_text("cancelled")
    await expect(table_in(page, "floor-svg", venue.tables["T2"])).to_have_attribute(
        "data-status", "available"
    )


# --- search -----------------------------------------------------------------------------


async def test_search_by_phone_finds_a_booking_on_another_day_and_opens_it(
    staff: Page,
    client: Client,
    admin: Headers,
    world: World,
    days: Iterator[dt.date],
    venue: OwnVenue,
) -> None:
    page = staff
    day = next(days)
    later = await booked(
        client,
        admin,
        venue,
        day + dt.timedelta(days=20),
        "20:30",
        guest_name="Zadie Smith",
        guest_phone="+44 20 7946 0303",
    )
    soon = await booked(
        client, admin, venue, day, guest_name="Zadie Smith", guest_phone="+44 20 7946 0303"
    )
    await booked(client, admin, venue, day, "21:00", table="T3", guest_name="Someone Else")
    past = await started_booking(
        client,
        admin,
        world,
        venue,
        dt.date.today() - dt.timedelta(days=40),
        guest_name="Zadie Smith",
        guest_phone="+44 20 7946 0303",
    )
    await console(page, venue)

    await page.locator("main").click()
    await page.keyboard.press("/")
    search = page.locator("#search-input")
    await expect(search).to_be_focused()
    await page.keyboard.type("7946 0303")  # typing searches, no Enter needed
    await expect(page).to_have_url(re.compile(r"#search\?q="))
    results = page.locator("#search-results button.sr-open")
    await expect(results).to_have_count(3)
    await expect(page.locator("#search-results")).not_to_contain_text("Someone Else")
    # Upcoming first, the soonest at the top; then the past.
    await expect(results.nth(0)).to_have_attribute("data-booking-id", soon["id"])
    await expect(results.nth(1)).to_have_attribute("data-booking-id", later["id"])
    await expect(results.nth(2)).to_have_attribute("data-booking-id", past)
    await expect(page.locator("#search-results h3")).to_have_text(["Upcoming", "Past"])
    await expect(page.locator("#search-status")).to_contain_text("3 bookings")
    await assert_accessible(page, "search")
    await screenshot(page, "search")

    await results.nth(1).click()
    dialog = page.locator("#booking-dialog")
    await expect(dialog.locator("#bd-title")).to_have_text("Zadie Smith")
    await expect(dialog.locator("#bd-summary")).to_contain_text("20:30")
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()  # and focus back on the result that opened it
    await expect(results.nth(1)).to_be_focused()
    await search.focus()
    await page.keyboard.press("Escape")
    await expect(search).to_have_value("")


async def test_slash_focuses_search_but_not_while_typing_in_a_field(
    staff: Page, venue: OwnVenue
) -> None:
    page = staff
    await console(page, venue)
    name = page.locator("#bf-name")
    await name.fill("AC")
    await name.press("/")
    await expect(name).to_have_value("AC/")
    await expect(name).to_be_focused()
    await page.locator("#floor-title").click()
    await page.keyboard.press("/")
    await expect(page.locator("#search-input")).to_be_focused()
    await page.keyboard.type("zz")
    await page.keyboard.press("Enter")
    await expect(page.locator("#search")).to_be_visible()
    await expect(page.locator("#search-status")).to_contain_text("No booking for “zz”")


# --- a phone ----------------------------------------------------------------------------


@pytest.mark.parametrize("page", [PHONE, TABLET], indirect=True, ids=["phone", "tablet"])
async def test_the_detail_fits_a_phone_and_a_tablet(
    staff: Page,
    client: Client,
    admin: Headers,
    days: Iterator[dt.date],
    venue: OwnVenue,
) -> None:
    page = staff
    _, dialog = await open_booked(
        page,
        client,
        admin,
        venue,
        next(days),
        guest_name="Toni Morrison",
        guest_email="a-rather-long-address-for-a-phone@example.com",
        special_requests="Arriving by wheelchair; a table near the door, please",
    )
    size = page.viewport_size
    assert size is not None
    wide = size["width"]
    box = await dialog.bounding_box()
    assert box is not None
    assert box["x"] >= 0, box
    assert box["x"] + box["width"] <= wide, box
    inner = await dialog.evaluate("d => d.scrollWidth <= d.clientWidth")
    assert inner, "the detail scrolls sideways"
    for name in ("Seat", "No-show", "Cancel", "Close the booking"):
        button = await dialog.get_by_role("button", name=name, exact=True).bounding_box()
        assert button is not None, name
        assert button["height"] >= 24, (name, button)
        assert button["x"] + button["width"] <= wide, (name, button)
    await assert_accessible(page, f"booking detail at {wide} px")
