"""The public booking page in Chromium, at a phone's size and a desktop's: a guest with
no account books, the confirmation comes by email from a real SMTP server on loopback,
and the link in it opens the booking on the page, where the guest changes and cancels it.

One story per size, sharing the package's server (`live_server`) and projector daemon.
The confirmation is sent by one pass of the real notification sender
(`tests.api.outbox.deliver`), whose `PUBLIC_BASE_URL` is the test's server: the link in
the email is opened as it is.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from playwright.async_api import Browser, Page, expect

from tests.api.browser import DESKTOP, FAR_AWAY, PHONE, SHOTS, assert_accessible, needs_chromium
from tests.api.conftest import TIME_ZONE, Headers, World, console_tab, signed_in
from tests.api.outbox import deliver, outbox_rows
from tests.support.providers import Mailbox
from tests.support.scope import TEST_VENUE

pytestmark = needs_chromium

_LINK = re.compile(r"https?://[^\s\"<>]+/book/[^\s\"<>]+")


async def _shot(page: Page, name: str) -> None:
    if SHOTS:
        await page.screenshot(path=str(Path(SHOTS) / f"booking-page-{name}.png"))


def _sent_to(mailbox: Mailbox, address: str) -> list[EmailMessage]:
    return [m for m in mailbox.messages if address in str(m["To"])]


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


@pytest.fixture
async def slug(client: AsyncTestClient[Litestar]) -> str:
    listed = await client.get("/api/v1/venues")
    (venue,) = [v for v in listed.json() if v["id"] == TEST_VENUE]
    return str(venue["slug"])


# The phone is set far from the venue (UTC+14): the page keeps the venue's dates and times.
@pytest.mark.parametrize("size", [{**PHONE, **FAR_AWAY}, DESKTOP], ids=["phone", "desktop"])
async def test_a_guest_books_without_an_account_then_changes_and_cancels_from_the_email(
    browser: Browser,
    live_server: str,
    world: World,
    database_url: str,
    slug: str,
    days: Iterator[dt.date],
    size: dict[str, Any],
) -> None:
    day = next(days)
    email = f"page-{uuid.uuid4().hex[:10]}@example.com"
    desktop = size is DESKTOP
    async with console_tab(browser, live_server, **size) as page:
        if desktop:  # a sign-in left in the tab that has since ended
            await page.add_init_script("sessionStorage.setItem('tablebook.token', 'ended')")
        await page.goto(f"/book/{slug}")
        await expect(page.locator("#venue-zone")).to_contain_text(TIME_ZONE)
        await page.get_by_label("Date", exact=True).fill(day.isoformat())
        await page.get_by_label("Guests", exact=True).select_option("3")
        await page.get_by_role("button", name="Show free times").click()
        await expect(page.locator("#slots-status")).to_contain_text("free times on")
        if desktop:
            await assert_accessible(page, "the free times")
            await _shot(page, "times")
        await page.locator("#slots button", has_text="19:00").click()
        await expect(page.get_by_role("heading", name="Your details")).to_be_focused()

        await page.get_by_label("Name", exact=True).fill("Page Guest")
        if desktop:
            # Signed in, the email is optional; the ended sign-in is refused, and the page
            # goes on as for a guest without an account.
            await expect(page.get_by_label("Email (optional)")).to_be_visible()
            await page.get_by_role("button", name="Book", exact=True).click()
            await expect(page.locator("#notice")).to_contain_text("sign-in has expired")
            await expect(page.get_by_label("Email", exact=True)).to_be_focused()
            # The API's field errors appear beside their fields.
            field = page.get_by_label("Email", exact=True)
            await field.fill("not-an-address")
            await page.get_by_role("button", name="Book", exact=True).click()
            await expect(page.locator("#err-guest_email")).not_to_be_empty()
            await expect(field).to_have_attribute("aria-invalid", "true")
            await expect(field).to_be_focused()
            await assert_accessible(page, "details with a field error")
        await page.get_by_label("Email", exact=True).fill(email)
        await page.get_by_label("Requests (optional)").fill("A high chair, please")
        if not desktop:
            await _shot(page, "phone")
        await page.get_by_role("button", name="Book", exact=True).click()

        await expect(page.get_by_role("heading", name="Booked")).to_be_focused()
        summary = page.locator("#summary")
        await expect(summary).to_contain_text(f"{day:%A, %B} {day.day}, {day.year}")
        await expect(summary).to_contain_text("19:00")
        await expect(summary).to_contain_text("3 guests")
        await expect(summary).to_contain_text(TIME_ZONE)
        reference = (await summary.locator("dd").first.text_content()) or ""
        assert reference.startswith("bkg_")
        calendar = page.get_by_role("link", name="Add to calendar")
        await expect(calendar).to_be_visible()
        ics = await page.evaluate("fetch(document.getElementById('ics').href).then(r => r.text())")
        assert "BEGIN:VEVENT" in ics
        assert f"DTSTART;TZID={TIME_ZONE}:{day:%Y%m%d}T190000" in ics
        await assert_accessible(page, "confirmation")
        if desktop:
            await _shot(page, "booked")

        await outbox_rows(world.pool, reference)  # the daemon has written the confirmation
        with Mailbox() as mailbox:
            await deliver(world.pool, database_url, mailbox.port, public_base_url=live_server)
        (confirmation,) = _sent_to(mailbox, email)
        (link,) = set(_LINK.findall(_text(confirmation)))
        parts = urlsplit(link)
        assert link.startswith(f"{live_server}/book/{slug}?")
        assert parts.query == f"booking={reference}"
        assert parts.fragment.startswith("token=")

        await page.goto(link)
        await expect(page.get_by_role("heading", name="Your booking")).to_be_focused()
        assert "token" not in page.url  # taken off the address once read
        current = page.locator("#current")
        await expect(current).to_contain_text(reference)
        await expect(current).to_contain_text("19:00")
        await assert_accessible(page, "the booking from the email")

        await page.get_by_role("button", name="Change date, time or guests").click()
        await expect(page.locator("#slots-status")).to_contain_text("free times on")
        await page.locator("#slots button", has_text="20:30").click()
        await expect(page.locator("#notice")).to_contain_text("changed")
        await expect(current).to_contain_text("20:30")
        if desktop:
            await _shot(page, "manage")

        await page.get_by_role("button", name="Cancel booking").click()
        await expect(page.get_by_role("button", name="Keep my booking")).to_be_focused()
        await page.get_by_role("button", name="Yes, cancel it").click()
        await expect(page.locator("#notice")).to_contain_text("cancelled")
        await expect(current).to_contain_text("cancelled")
        await expect(page.get_by_role("button", name="Cancel booking")).to_be_hidden()

        if desktop:  # the embedded page tells its parent how tall it is
            await page.set_content(
                "<script>window.heights = [];"
                " addEventListener('message', (e) => heights.push(e.data));</script>"
                f'<iframe title="Book" src="{live_server}/book/{slug}?embed=1"></iframe>'
            )
            await page.wait_for_function("window.heights.length > 0")
            posted = await page.evaluate("window.heights[0]")
            assert posted["type"] == "tablebook:height"
            assert posted["height"] > 100


async def test_a_signed_in_guest_books_on_the_page_and_gets_the_calendar_file(
    browser: Browser, live_server: str, slug: str, guest: Headers, days: Iterator[dt.date]
) -> None:
    day = next(days)
    async with console_tab(browser, live_server, **DESKTOP) as page:
        await signed_in(page, guest)
        await page.goto(f"/book/{slug}")
        await page.get_by_label("Date", exact=True).fill(day.isoformat())
        await page.get_by_role("button", name="Show free times").click()
        await expect(page.locator("#slots-status")).to_contain_text("free times on")
        await page.locator("#slots button", has_text="19:00").click()
        await page.get_by_label("Name", exact=True).fill("Signed-In Sam")
        await page.get_by_role("button", name="Book", exact=True).click()

        await expect(page.get_by_role("heading", name="Booked")).to_be_focused()
        await expect(page.get_by_role("link", name="Add to calendar")).to_be_visible()
        await expect(page.locator("#manage-note")).to_be_hidden()  # no token: theirs signed in
        ics = await page.evaluate("fetch(document.getElementById('ics').href).then(r => r.text())")
        assert f"DTSTART;TZID={TIME_ZONE}:{day:%Y%m%d}T190000" in ics
