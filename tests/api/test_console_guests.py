"""The guest's profile in the console's booking detail: what their bookings here add up
to and the tags staff keep, which an admin edits there (one browser test: a few seconds)."""

from __future__ import annotations

import uuid
from datetime import date

from litestar import Litestar
from litestar.testing import AsyncTestClient
from playwright.async_api import Page, expect

from booking_core.domain.personal import new_person_id
from tests.api.browser import assert_accessible
from tests.api.conftest import Headers, World
from tests.api.test_console_booking import open_detail
from tests.support.guests import Book

Client = AsyncTestClient[Litestar]
GUESTS = "/api/v1/admin/guests"


async def test_an_admin_tags_the_guest_from_the_booking_detail(
    staff: Page, client: Client, admin: Headers, world: World
) -> None:
    person, name = new_person_id(), f"Ada Tagged {uuid.uuid4().hex[:6]}"
    visit, booking_id = f"bkg_{uuid.uuid4().hex}", f"bkg_{uuid.uuid4().hex}"
    book = Book(world.store)
    await book.place(visit, person, date(2026, 9, 1), name=name, party_size=4)
    await book.step(visit, "seat", date(2026, 9, 1), party_size=4)
    await book.step(visit, "complete", date(2026, 9, 1), party_size=4)
    token = await book.place(booking_id, person, date(2026, 9, 20), name=name)
    for path in (f"/api/v1/admin/bookings/{booking_id}", f"{GUESTS}/{person}"):
        shown = await client.get(path, headers={**admin, "X-Consistency-Token": str(token)})
        assert shown.status_code == 200, shown.text

    await staff.goto("/console#floor")
    dialog = await open_detail(staff, booking_id)
    guest = dialog.locator("#bd-guest")
    await expect(dialog.locator("#bd-guest-title")).to_have_text("Guest profile")
    await expect(guest).to_contain_text("Visits1 (4 covers)")
    await expect(guest).to_contain_text("No tags.")
    await guest.get_by_text("Edit tags & notes").click()
    await guest.get_by_label("Tags, separated by commas").fill("VIP, " + "x" * 31)
    await guest.get_by_role("button", name="Save guest").click()
    await expect(guest.locator("#bd-guest-problem")).to_contain_text("Check the marked fields")
    await guest.get_by_label("Tags, separated by commas").fill("VIP, allergy: nuts")
    await guest.get_by_label("Notes").fill("Window seat")
    await guest.get_by_role("button", name="Save guest").click()

    await expect(guest.locator(".bd-tag")).to_have_text(["VIP", "allergy: nuts"])
    await expect(guest.locator("#bd-guest-notes")).to_have_text("Window seat")
    await assert_accessible(staff, "guest profile in the booking detail")
    saved = await client.get(f"{GUESTS}/{person}", headers=admin)
    assert (saved.json()["tags"], saved.json()["notes"]) == (
        ["VIP", "allergy: nuts"],
        "Window seat",
    )
