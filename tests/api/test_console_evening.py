"""A whole evening at the host stand, on a tablet, by a host, through the console alone:
a walk-in seated, a party from the waitlist seated, a phone booking for tonight taken,
found on the timeline, moved to another table, seated, and a visit completed after the
console asked. Each step is checked against the API's answer, not only the page.

The venue is the test's own (`own_venue`: open all day), and "tonight" is the venue's
now, so the hour of the run does not matter; a rule staff may set aside at an odd hour
(a turn past closing just before midnight) is given a reason through the console's
dialog, as a host would.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from playwright.async_api import Locator, Page, expect

from tests.api.browser import (
    TABLET,
    assert_accessible,
    choose_venue,
    needs_chromium,
    open_floor,
    written,
)
from tests.api.conftest import Headers, NewUser, OwnVenueMaker

Client = AsyncTestClient[Litestar]
pytestmark = needs_chromium


async def confirmed(page: Page, where: Locator, button: str, yes: str) -> None:
    """Press the list's `button` for a booking; the console asks first; say yes."""
    await where.get_by_role("button", name=f"{button}:").click()  # "Complete: Walker Percy at …"
    ask = page.locator("#confirm-dialog")
    await expect(ask).to_be_visible()
    await ask.get_by_role("button", name=yes, exact=True).click()


async def read_until(
    client: Client, admin: Headers, venue_id: str, booking_id: str, status: str
) -> dict[str, Any]:
    """The booking as the API reads it, once its read model has the `status` written."""
    deadline = time.monotonic() + 5
    while True:
        read = await client.get(
            f"/api/v1/venues/{venue_id}/admin/bookings/{booking_id}", headers=admin
        )
        assert read.status_code == 200, read.text
        if read.json()["status"] == status or time.monotonic() > deadline:
            return dict(read.json())
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("page", [TABLET], indirect=True)
async def test_a_host_runs_the_evening_from_a_tablet(
    page: Page, client: Client, admin: Headers, new_user: NewUser, own_venue: OwnVenueMaker
) -> None:
    venue = await own_venue()
    host, user = await new_user("Hal Host")
    granted = await client.put(
        f"/api/v1/admin/venues/{venue.id}/staff/{user['id']}", json={"role": "host"}, headers=admin
    )
    assert granted.is_success, granted.text
    token = host["Authorization"].removeprefix("Bearer ")
    await page.add_init_script(f"sessionStorage.setItem('tablebook.token', {token!r})")
    await choose_venue(page, venue)
    await open_floor(page)
    nav = [await b.get_attribute("data-screen") for b in await page.locator("#nav button").all()]
    assert nav == ["floor", "timeline"], nav

    # A couple walks in and sits down at once.
    walk_in = page.locator("#walkin-form")
    await walk_in.get_by_label("Party size").fill("2")
    await walk_in.get_by_label("Name").fill("Walker Percy")
    _, walked = await written(
        page, lambda: walk_in.get_by_role("button", name="Seat now").click(), "/admin/bookings"
    )
    assert walked["status"] == "seated"

    # A party waits for a table, then takes one.
    add = page.locator("#waitlist-form")
    await add.get_by_label("Name").fill("Jean Rhys")
    _, entry = await written(
        page, lambda: add.get_by_role("button", name="Add to waitlist").click(), "/admin/waitlist"
    )
    waiting = page.locator(f"#waitlist tr[data-entry-id='{entry['id']}']")
    _, from_list = await written(
        page, lambda: waiting.get_by_role("button", name="Seat").click(), "/seat"
    )
    await expect(waiting).to_have_count(0)

    # The phone rings: a table for two later tonight.
    phone = page.locator("#booking-form")
    await phone.get_by_role("button", name="Tonight").click()
    await phone.get_by_label("Guest name").fill("Phoebe Caller")
    await phone.get_by_label("Phone").fill("+44 20 7946 0018")
    await phone.get_by_label("Special requests").fill("Arriving by wheelchair")
    _, called = await written(
        page, lambda: phone.get_by_role("button", name="Book").click(), "/admin/bookings"
    )
    assert called["status"] == "confirmed"
    held = {*walked["table_ids"], *from_list.get("table_ids", [])}
    assert not held & set(called["table_ids"]), "three parties, three different tables"

    # On the timeline, the booking is a bar; Enter on it opens the booking.
    await page.goto(f"/console#timeline?date={called['date']}")
    bar = page.locator(f".tl-bar[data-booking-id='{called['id']}']").first
    await expect(bar).to_contain_text("Phoebe Caller")
    await bar.focus()
    await page.keyboard.press("Enter")
    detail = page.locator("#booking-dialog")
    await expect(detail).to_be_visible()
    await expect(detail).to_contain_text("+44 20 7946 0018")
    await expect(detail).to_contain_text("Arriving by wheelchair")
    await assert_accessible(page, "the booking's detail on a tablet")

    # Moved to a table for four that nobody holds tonight, then seated.
    free = next(
        table_id
        for name, table_id in venue.tables.items()
        if name == "T4" and table_id not in held | set(called["table_ids"])
    )
    choice = detail.get_by_label("Move to table")
    await choice.select_option(free)
    async with page.expect_response(lambda r: r.request.method == "PUT") as answer:
        await detail.get_by_role("button", name="Move").click()
    moved = await answer.value
    assert moved.ok, await moved.text()
    assert moved.request.headers["if-match"] == f'"{called["version"]}"'
    await expect(detail.locator("#bd-summary")).to_contain_text("T4")
    _, seated = await written(
        page, lambda: detail.get_by_role("button", name="Seat", exact=True).click(), "/seat"
    )
    assert seated["status"] == "seated"
    assert seated["table_ids"] == [free]
    await detail.get_by_role("button", name="Close the booking").click()

    # The walk-in pays and leaves: the floor's list asks before completing the visit.
    await open_floor(page)
    row = page.locator(f"#floor-bookings tr[data-booking-id='{walked['id']}']")
    _, done = await written(page, lambda: confirmed(page, row, "Complete", "Complete"), "/complete")
    assert done["status"] == "completed"

    # What the API now says of the evening is what the host did.
    final = await read_until(client, admin, venue.id, walked["id"], "completed")
    assert final["status"] == "completed"
    moved_read = await read_until(client, admin, venue.id, called["id"], "seated")
    assert (moved_read["status"], moved_read["table_ids"]) == ("seated", [free])
