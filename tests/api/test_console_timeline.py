"""The console's timeline in a real browser: tables against time, every booking a bar
that is dragged (mouse, touch) or moved by keyboard to another table, time or length;
each drop a `PUT` with `If-Match`, a refusal snapped back with the API's reason.

Each test works on a venue of its own (`own_venue`: open all day, 15-minute slots, T1..T6)
on a day a few days after the venue's today, so the hour of the run does not matter.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from playwright.async_api import Browser, Locator, Page, expect

from tests.api.browser import (
    DESKTOP,
    PHONE,
    TABLET,
    assert_accessible,
    choose_venue,
    needs_chromium,
    screenshot,
    venue_now,
)
from tests.api.conftest import Headers, OwnVenue, OwnVenueMaker

Client = AsyncTestClient[Litestar]
pytestmark = needs_chromium

SLOT_PX = 30  # 15 minutes at 2 px a minute
MOVABLE = ". Arrows move it, Shift+arrows change its length, Enter opens it."
_ahead = itertools.count(4)


def a_day() -> str:
    return (venue_now().date() + dt.timedelta(days=next(_ahead))).isoformat()


async def book(
    client: Client, admin: Headers, venue: OwnVenue, day: str, time: str, table: str, name: str
) -> dict[str, Any]:
    made = await client.post(
        f"/api/v1/venues/{venue.id}/admin/bookings",
        json={
            "date": day,
            "time": time,
            "party_size": 2,
            "guest_name": name,
            "table_ids": [venue.tables[table]],
            "source": "phone",
        },
        headers={**admin, "X-Consistency-Token": venue.token},
    )
    assert made.status_code == 201, made.text
    return dict(made.json(), consistency=made.headers["X-Consistency-Token"])


async def open_timeline(page: Page, day: str) -> None:
    await page.goto(f"/console#timeline?date={day}")
    await expect(page.locator("#tl-date")).to_have_value(day)
    await expect(page.locator("#tl-live")).to_have_attribute("data-state", "live")


async def timeline_of(page: Page, venue: OwnVenue, day: str) -> None:
    """The page works on `venue` and shows its timeline of `day`."""
    await choose_venue(page, venue)
    await open_timeline(page, day)


async def one_booking(
    page: Page,
    client: Client,
    admin: Headers,
    own_venue: OwnVenueMaker,
    time: str,
    table: str,
    name: str,
) -> tuple[OwnVenue, str, dict[str, Any]]:
    """A venue of the test's own with one booking on a day ahead, shown on the timeline:
    the venue, the day and the booking."""
    venue = await own_venue()
    day = a_day()
    booking = await book(client, admin, venue, day, time, table, name)
    await timeline_of(page, venue, day)
    return venue, day, booking


def track(page: Page, venue: OwnVenue, table: str) -> Locator:
    return page.locator(f".tl-track[data-table-id='{venue.tables[table]}']")


def bar(page: Page, venue: OwnVenue, booking: dict[str, Any], table: str) -> Locator:
    return track(page, venue, table).locator(f".tl-bar[data-booking-id='{booking['id']}']")


async def drag(page: Page, handle: Locator, dx: float, to: Locator | None = None) -> None:
    """Press on `handle`, move by `dx` pixels (and onto the row `to`), let go."""
    await handle.scroll_into_view_if_needed()
    box = await handle.bounding_box()
    assert box is not None
    x, y = box["x"] + min(20, box["width"] / 2), box["y"] + box["height"] / 2
    target_y = y
    if to is not None:
        row = await to.bounding_box()
        assert row is not None
        target_y = row["y"] + row["height"] / 2
    await page.mouse.move(x, y)
    await page.mouse.down()
    for step in range(1, 6):
        await page.mouse.move(x + dx * step / 5, y + (target_y - y) * step / 5)
    await page.mouse.up()


def put_to(booking: dict[str, Any]) -> Any:
    return lambda r: r.request.method == "PUT" and r.url.endswith(f"/bookings/{booking['id']}")


async def test_a_booking_dragged_to_a_free_table_and_time_is_moved(
    staff: Page, client: Client, admin: Headers, own_venue: OwnVenueMaker
) -> None:
    page = staff
    venue, _, booking = await one_booking(
        page, client, admin, own_venue, "19:00", "T1", "Ada Lovelace"
    )
    moving = bar(page, venue, booking, "T1")
    await expect(moving).to_contain_text("Ada Lovelace")
    await expect(moving).to_contain_text("· 2")
    await expect(moving).to_contain_text("booked")

    target = track(page, venue, "T3")
    async with page.expect_response(put_to(booking)) as answer:
        await drag(page, moving, 2 * SLOT_PX, to=target)
    response = await answer.value
    assert response.ok, await response.text()
    assert response.request.headers["if-match"] == f'"{booking["version"]}"'
    assert response.request.post_data_json == {"table_ids": [venue.tables["T3"]], "time": "19:30"}
    moved = bar(page, venue, booking, "T3")
    await expect(moved).to_be_visible()
    await expect(moved).to_have_attribute(
        "aria-label",
        "Ada Lovelace, party of 2, 19:30 to 21:00, booked, table T3" + MOVABLE,
    )
    await expect(bar(page, venue, booking, "T1")).to_have_count(0)
    await expect(page.locator("#tl-status")).to_contain_text(
        "Saved: Ada Lovelace at 19:30\N{EN DASH}21:00 on T3"
    )


async def test_a_drag_onto_a_held_table_snaps_back_with_the_reason(
    staff: Page, client: Client, admin: Headers, own_venue: OwnVenueMaker
) -> None:
    page = staff
    venue = await own_venue()
    day = a_day()
    moving = await book(client, admin, venue, day, "19:00", "T1", "Ada Lovelace")
    await book(client, admin, venue, day, "19:00", "T2", "Charles Babbage")
    await timeline_of(page, venue, day)
    held = track(page, venue, "T2")
    async with page.expect_response(put_to(moving)) as answer:
        await drag(page, bar(page, venue, moving, "T1"), 0, to=held)
    response = await answer.value
    assert response.status == 409, await response.text()
    problem = await response.json()
    alert = page.locator("#tl-problem")
    await expect(alert).to_be_visible()
    await expect(alert).to_have_attribute("role", "alert")
    await expect(alert).to_contain_text("Not moved:")
    # The API's reason, the table by its name rather than its id.
    assert venue.tables["T2"] in problem["detail"]
    await expect(alert).to_contain_text("Table T2 is booked at that time.")
    await expect(alert).not_to_contain_text("tbl_")
    back = bar(page, venue, moving, "T1")
    await expect(back).to_be_visible()
    await expect(back).not_to_have_class("draft")
    assert await back.evaluate("node => node.style.transform") == ""
    await expect(bar(page, venue, moving, "T2")).to_have_count(0)


async def test_dragging_a_bars_end_changes_the_bookings_length(
    staff: Page, client: Client, admin: Headers, own_venue: OwnVenueMaker
) -> None:
    page = staff
    venue = await own_venue()
    day = a_day()
    booking = await book(client, admin, venue, day, "18:00", "T4", "Grace Hopper")
    assert booking["duration_minutes"] == 90
    await timeline_of(page, venue, day)
    grip = bar(page, venue, booking, "T4").locator(".tl-grip")
    await grip.scroll_into_view_if_needed()
    box = await grip.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    async with page.expect_response(put_to(booking)) as answer:
        await page.mouse.move(x, y)
        await page.mouse.down()
        await page.mouse.move(x + SLOT_PX, y)
        await page.mouse.move(x + 2 * SLOT_PX, y)
        await page.mouse.up()
    response = await answer.value
    assert response.ok, await response.text()
    assert response.request.post_data_json == {"duration_minutes": 120}
    assert (await response.json())["end_time"] == "20:00"
    await expect(bar(page, venue, booking, "T4")).to_have_attribute(
        "aria-label",
        "Grace Hopper, party of 2, 18:00 to 20:00, booked, table T4" + MOVABLE,
    )


async def test_the_keyboard_moves_a_bar_and_escape_cancels(
    staff: Page, client: Client, admin: Headers, own_venue: OwnVenueMaker
) -> None:
    page = staff
    venue, _, booking = await one_booking(
        page, client, admin, own_venue, "12:00", "T2", "Alan Turing"
    )
    focused = bar(page, venue, booking, "T2")
    await focused.focus()
    await page.keyboard.press("ArrowRight")
    await expect(focused).to_have_class("tl-bar bk-confirmed movable draft")
    await page.keyboard.press("Escape")
    await expect(focused).not_to_have_class("draft")
    await expect(page.locator("#tl-status")).to_have_text("Change cancelled.")

    await page.keyboard.press("ArrowRight")
    await page.keyboard.press("ArrowRight")
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("Shift+ArrowLeft")
    await expect(page.locator("#tl-status")).to_contain_text("12:30\N{EN DASH}13:45 on T3")
    async with page.expect_response(put_to(booking)) as answer:
        await page.keyboard.press("Enter")
    response = await answer.value
    assert response.ok, await response.text()
    assert response.request.post_data_json == {
        "table_ids": [venue.tables["T3"]],
        "time": "12:30",
        "duration_minutes": 75,
    }
    moved = bar(page, venue, booking, "T3")
    await expect(moved).to_be_focused()
    # Enter on a bar with no change opens the booking's detail (another screen listens).
    await page.evaluate(
        "window.opened = [];"
        " document.addEventListener('tablebook:open-booking', e => window.opened.push(e.detail))"
    )
    await page.keyboard.press("Enter")
    await page.wait_for_function("window.opened.length === 1")
    assert await page.evaluate("window.opened") == [{"id": booking["id"]}]


@pytest.mark.parametrize("page", [PHONE], indirect=True)
async def test_a_finger_drags_a_bar_on_a_phone(
    staff: Page, client: Client, admin: Headers, own_venue: OwnVenueMaker
) -> None:
    page = staff
    venue, _, booking = await one_booking(
        page, client, admin, own_venue, "20:00", "T3", "Mary Somerville"
    )
    moving = bar(page, venue, booking, "T3")
    await moving.scroll_into_view_if_needed()
    box = await moving.bounding_box()
    assert box is not None
    x, y = box["x"] + 20, box["y"] + box["height"] / 2
    touch = await page.context.new_cdp_session(page)

    async def finger(kind: str, at_x: float) -> None:
        points = [] if kind == "touchEnd" else [{"x": at_x, "y": y, "id": 1}]
        await touch.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    async with page.expect_response(put_to(booking)) as answer:
        await finger("touchStart", x)
        for step in range(1, 5):
            await finger("touchMove", x + step * SLOT_PX / 2)
        await finger("touchEnd", x + 2 * SLOT_PX)
    response = await answer.value
    assert response.ok, await response.text()
    assert response.request.post_data_json == {"time": "20:30"}
    await expect(moving).to_contain_text("Mary Somerville")
    await expect(page.locator("#tl-status")).to_contain_text("Saved: Mary Somerville at 20:30")
    wide = await page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390, wide


@pytest.mark.parametrize("page", [DESKTOP, TABLET, PHONE], indirect=True)
async def test_the_timeline_shows_the_day_at_every_size(
    staff: Page, client: Client, admin: Headers, own_venue: OwnVenueMaker
) -> None:
    page = staff
    venue = await own_venue()
    day = a_day()
    await book(client, admin, venue, day, "19:00", "T1", "Ada Lovelace")
    blocked = await client.post(
        f"/api/v1/venues/{venue.id}/admin/tables/{venue.tables['T6']}/blocks",
        json={"start": f"{day}T18:00", "end": f"{day}T21:00", "reason": "Broken chair"},
        headers={**admin, "X-Consistency-Token": venue.token},
    )
    assert blocked.status_code == 201, blocked.text
    await timeline_of(page, venue, day)
    for table in ("T1", "T2", "T3", "T4", "T5", "T6"):
        await expect(page.locator(".tl-label", has_text=table)).to_have_count(1)
    await expect(page.locator(".tl-bar", has_text="Ada Lovelace")).to_contain_text("booked")
    block = track(page, venue, "T6").locator(".tl-block")
    await expect(block).to_have_text("⊘ blocked: Broken chair")
    width = page.viewport_size["width"] if page.viewport_size else 0
    assert await page.evaluate("document.documentElement.scrollWidth") <= width
    scroller = await page.locator("#tl-scroll").bounding_box()
    assert scroller is not None
    assert scroller["x"] + scroller["width"] <= width
    # The timeline scrolls inside its own box.
    assert await page.evaluate("document.getElementById('tl-scroll').scrollWidth") > width
    await assert_accessible(page, "timeline")
    if width == 1440:
        await page.locator(".tl-bar", has_text="Ada Lovelace").scroll_into_view_if_needed()
        await screenshot(page, "timeline")

    # The day picker: the next day has nothing; Today is the venue's today.
    await page.get_by_role("button", name="Next day").click()
    await expect(page.locator(".tl-bar")).to_have_count(0)
    await page.get_by_role("button", name="Today").click()
    await expect(page.locator("#tl-date")).to_have_value(venue_now().date().isoformat())
    await expect(page.locator(".tl-now")).to_be_visible()


async def test_a_closed_day_is_shaded_with_its_reason(
    staff: Page, client: Client, admin: Headers, own_venue: OwnVenueMaker
) -> None:
    page = staff
    venue = await own_venue()
    day = a_day()
    closed = await client.post(
        f"/api/v1/venues/{venue.id}/admin/closures",
        json={"date": day, "reason": "Staff party"},
        headers={**admin, "X-Consistency-Token": venue.token},
    )
    assert closed.status_code == 201, closed.text
    await timeline_of(page, venue, day)
    await expect(page.locator(".tl-closed")).to_contain_text("Closed all day: Staff party")


async def test_two_consoles_see_each_others_moves(
    staff: Page,
    browser: Browser,
    live_server: str,
    client: Client,
    admin: Headers,
    own_venue: OwnVenueMaker,
) -> None:
    page = staff
    venue, day, booking = await one_booking(
        page, client, admin, own_venue, "13:00", "T1", "Ada Lovelace"
    )
    other_context = await browser.new_context(
        base_url=live_server, viewport={"width": 1440, "height": 900}
    )
    try:
        token = admin["Authorization"].removeprefix("Bearer ")
        await other_context.add_init_script(
            f"sessionStorage.setItem('tablebook.token', {token!r});"
            f"sessionStorage.setItem('tablebook.venue', {venue.id!r})"
        )
        other = await other_context.new_page()
        await open_timeline(other, day)
        await expect(bar(other, venue, booking, "T1")).to_be_visible()

        target = track(page, venue, "T2")
        async with page.expect_response(put_to(booking)) as answer:
            await drag(page, bar(page, venue, booking, "T1"), 0, to=target)
        assert (await answer.value).ok
        await expect(bar(other, venue, booking, "T2")).to_be_visible()
        await expect(bar(other, venue, booking, "T1")).to_have_count(0)
    finally:
        await other_context.close()


async def test_joined_tables_and_the_evening_befores_late_party_are_drawn(
    staff: Page, client: Client, admin: Headers, own_venue: OwnVenueMaker
) -> None:
    page = staff
    venue = await own_venue()
    day = a_day()
    evening = (dt.date.fromisoformat(day) - dt.timedelta(days=1)).isoformat()
    scope = f"/api/v1/venues/{venue.id}/admin"
    combined = await client.post(
        f"{scope}/table-combinations",
        json={
            "table_ids": [venue.tables["T1"], venue.tables["T2"]],
            "min_capacity": 3,
            "capacity": 4,
        },
        headers={**admin, "X-Consistency-Token": venue.token},
    )
    assert combined.status_code == 201, combined.text
    joined = await client.post(
        f"{scope}/bookings",
        json={
            "date": day,
            "time": "13:00",
            "party_size": 4,
            "guest_name": "Joined Party",
            "table_ids": [venue.tables["T1"], venue.tables["T2"]],
        },
        headers={**admin, "X-Consistency-Token": combined.headers["X-Consistency-Token"]},
    )
    assert joined.status_code == 201, joined.text
    # The venue closes at 23:59: a 23:30 start runs past it, so staff give a reason.
    late = await client.post(
        f"{scope}/bookings",
        json={
            "date": evening,
            "time": "23:30",
            "party_size": 2,
            "guest_name": "Night Owl",
            "table_ids": [venue.tables["T3"]],
            "override": {"reason": "Late show"},
        },
        headers=admin,
    )
    assert late.status_code == 201, late.text
    assert late.json()["end_time"] == "01:00"
    await timeline_of(page, venue, day)
    for table in ("T1", "T2"):
        one = bar(page, venue, joined.json(), table)
        await expect(one).to_contain_text("Joined Party")
        other = "T2" if table == "T1" else "T1"
        await expect(one).to_contain_text(f"with {other}")
    owl = bar(page, venue, late.json(), "T3")
    await expect(owl).to_have_attribute(
        "aria-label",
        "Night Owl, party of 2, 23:30 to 01:00, booked, table T3, from the evening before"
        + MOVABLE,
    )
    assert await owl.evaluate("node => node.getBoundingClientRect().width") == 60 * 2


async def test_a_move_against_a_rule_staff_may_bend_asks_for_a_reason(
    staff: Page, client: Client, admin: Headers, own_venue: OwnVenueMaker
) -> None:
    page = staff
    venue, _, booking = await one_booking(
        page, client, admin, own_venue, "15:00", "T1", "Ada Lovelace"
    )
    # T5 seats three at the fewest: a party of two there is a rule set aside, with a reason.
    roomy = track(page, venue, "T5")
    async with page.expect_response(put_to(booking)) as first:
        await drag(page, bar(page, venue, booking, "T1"), 0, to=roomy)
    refused = await first.value
    assert refused.status == 422, await refused.text()
    dialog = page.locator("#reason-dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text("T5 needs a party of at least 3, not 2")
    await expect(dialog).not_to_contain_text("tbl_")
    await dialog.get_by_label("Reason for the override").fill("They asked for the window")
    async with page.expect_response(put_to(booking)) as second:
        await dialog.get_by_role("button", name="Override and move").click()
    response = await second.value
    assert response.ok, await response.text()
    assert response.request.post_data_json == {
        "table_ids": [venue.tables["T5"]],
        "override": {"reason": "They asked for the window"},
    }
    await expect(bar(page, venue, booking, "T5")).to_be_visible()
    await expect(page.locator("#tl-problem")).to_be_hidden()
