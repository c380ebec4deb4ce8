"""The console's dashboard, reports and notifications screens in a real browser, each on
a venue of the test's own with bookings of known days; and hosts never see them."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from playwright.async_api import Page, expect
from psycopg_pool import AsyncConnectionPool

from tests.api.browser import (
    PHONE,
    TABLET,
    assert_accessible,
    choose_venue,
    needs_chromium,
    screenshot,
    venue_now,
)
from tests.api.conftest import Headers, NewUser, OwnVenue, OwnVenueMaker, host_at, signed_in
from tests.api.outbox import book_with_email, deliver, failed_confirmation, status_of
from tests.support.providers import Mailbox

Client = AsyncTestClient[Litestar]
pytestmark = needs_chromium
PERCENT = re.compile(r"^\d+(\.\d)?%$")


async def _book(
    client: Client,
    admin: Headers,
    venue: OwnVenue,
    day: dt.date,
    time: str,
    party: int,
    source: str = "phone",
) -> tuple[str, str]:
    """A staff booking at the venue: its id and the write's consistency token."""
    body = {
        "date": day.isoformat(),
        "time": time,
        "party_size": party,
        "guest_name": f"Guest of {party}",
        "source": source,
    }
    made = await client.post(f"/api/v1/venues/{venue.id}/admin/bookings", json=body, headers=admin)
    assert made.status_code == 201, made.text
    return str(made.json()["id"]), made.headers["X-Consistency-Token"]


async def _cancel(client: Client, admin: Headers, venue: OwnVenue, booking_id: str) -> str:
    done = await client.delete(f"/api/v1/venues/{venue.id}/bookings/{booking_id}", headers=admin)
    assert done.status_code == 200, done.text
    return done.headers["X-Consistency-Token"]


async def _a_known_day(client: Client, admin: Headers, venue: OwnVenue, day: dt.date) -> str:
    """Three bookings on `day` (parties of 2, 4 and 3), the party of 3 cancelled: 2
    bookings, 6 covers, 1 cancellation. Answers the token of the last write."""
    await _book(client, admin, venue, day, "12:00", 2)
    await _book(client, admin, venue, day, "13:00", 4, source="online")
    three, _ = await _book(client, admin, venue, day, "19:00", 3)
    return await _cancel(client, admin, venue, three)


async def _caught_up(client: Client, admin: Headers, venue: OwnVenue, token: str) -> None:
    """The stats projection has the writes up to `token` (the console reads it as it is)."""
    seen = await client.get(
        f"/api/v1/venues/{venue.id}/admin/dashboard/stats",
        headers={**admin, "X-Consistency-Token": token},
    )
    assert seen.status_code == 200, seen.text


def _stat(page: Page, screen: str, key: str) -> Any:
    return page.locator(f"#{screen} [data-stat='{key}'] .value")


async def _no_sideways_scroll(page: Page, where: str) -> None:
    widths = await page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"{where}: the page scrolls sideways ({widths})"


async def _smallest_text(page: Page, screen: str) -> float:
    """The smallest font size of any visible text on the screen, in CSS pixels."""
    smallest: float = await page.evaluate(
        """(id) => {
          let least = Infinity;
          for (const el of document.getElementById(id).querySelectorAll("*")) {
            const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
            if (!own || !el.getClientRects().length) continue;
            least = Math.min(least, parseFloat(getComputedStyle(el).fontSize));
          }
          return least;
        }""",
        screen,
    )
    return smallest


# --- dashboard -------------------------------------------------------------------------


async def test_the_dashboard_shows_a_days_numbers_and_steps_from_day_to_day(
    staff: Page, client: Client, admin: Headers, own_venue: OwnVenueMaker, days: Iterator[dt.date]
) -> None:
    venue, day = await own_venue(), next(days)
    await _caught_up(client, admin, venue, await _a_known_day(client, admin, venue, day))
    await choose_venue(staff, venue)

    await staff.goto("/console#dashboard")

    await expect(staff.locator("#dashboard-day")).to_contain_text("· today")
    assert await staff.locator("#dashboard-date").input_value() in {
        venue_now().date().isoformat(),
        (venue_now() - dt.timedelta(minutes=1)).date().isoformat(),
    }
    await expect(_stat(staff, "dashboard", "tables")).to_have_text("6")
    await staff.locator("#dashboard-date").fill(day.isoformat())
    await expect(staff.locator("#dashboard-day")).to_have_text(
        f"{day.strftime('%A')}, {day.day} {day.strftime('%B %Y')}"
    )
    for key, value in {
        "bookings": "2",
        "covers": "6",
        "cancellations": "1",
        "no_shows": "0",
        "seated_now": "—",  # another day than today has no "now"
    }.items():
        await expect(_stat(staff, "dashboard", key)).to_have_text(value)
    await expect(staff.locator("#dashboard [data-stat='no_shows'] .note")).to_have_text(
        "0% of bookings"
    )
    await expect(_stat(staff, "dashboard", "occupancy")).to_have_text(PERCENT)
    await screenshot(staff, "dashboard")
    await assert_accessible(staff, "dashboard")

    await staff.get_by_role("button", name="Next day").click()
    await expect(staff.locator("#dashboard-date")).to_have_value(
        (day + dt.timedelta(days=1)).isoformat()
    )
    await expect(_stat(staff, "dashboard", "bookings")).to_have_text("0")
    await staff.get_by_role("button", name="Previous day").click()
    await expect(staff.locator("#dashboard-date")).to_have_value(day.isoformat())
    await expect(_stat(staff, "dashboard", "bookings")).to_have_text("2")


async def test_the_dashboard_reads_its_day_again_while_shown_and_stops_when_left(
    staff: Page, client: Client, admin: Headers, own_venue: OwnVenueMaker, days: Iterator[dt.date]
) -> None:
    venue, day = await own_venue(), next(days)
    await choose_venue(staff, venue)
    await staff.add_init_script("sessionStorage.setItem('tablebook.dashboardRefreshMs', '300')")
    await staff.goto("/console#dashboard")
    await staff.locator("#dashboard-date").fill(day.isoformat())
    await expect(_stat(staff, "dashboard", "bookings")).to_have_text("0")

    _, token = await _book(client, admin, venue, day, "12:00", 2)
    await _caught_up(client, admin, venue, token)

    await expect(_stat(staff, "dashboard", "bookings")).to_have_text("1")  # no click
    await staff.get_by_role("button", name="Reports").click()
    await expect(staff.locator("#reports-title")).to_be_visible()
    reads: list[str] = []
    staff.on("request", lambda r: reads.append(r.url) if "dashboard/stats" in r.url else None)
    await staff.wait_for_timeout(1000)  # three refresh periods: none may come
    assert reads == []


# --- reports -----------------------------------------------------------------------------


async def test_a_report_of_a_range_draws_its_chart_and_table_and_downloads_its_csv(
    staff: Page, client: Client, admin: Headers, own_venue: OwnVenueMaker, days: Iterator[dt.date]
) -> None:
    venue, day = await own_venue(), next(days)
    await _a_known_day(client, admin, venue, day)
    _, token = await _book(client, admin, venue, day + dt.timedelta(days=1), "20:00", 5)
    await _caught_up(client, admin, venue, token)
    last = day + dt.timedelta(days=2)
    await choose_venue(staff, venue)

    await staff.goto("/console#reports")
    await staff.locator("#reports-preset").select_option("custom")
    await staff.locator("#reports-from").fill(day.isoformat())
    await staff.locator("#reports-to").fill(last.isoformat())
    await staff.get_by_role("button", name="Show").click()

    chart = staff.locator("#reports-chart-svg")
    await expect(chart.locator("g.day")).to_have_count(3)
    await expect(
        chart.locator(f"g.day[data-date='{day.isoformat()}'] .mark.cancelled")
    ).to_have_text("✕1")
    await expect(chart.locator("text.axis-title")).to_have_text(["Covers", "Service date"])
    rows = staff.locator("#reports-days tbody tr")
    await expect(rows).to_have_count(3)
    await expect(rows.nth(0).locator("td")).to_have_text(["2", "6", "1", "0", PERCENT])
    await expect(rows.nth(1).locator("td").first).to_have_text("1")
    await expect(rows.nth(2).locator("td").first).to_have_text("0")
    await expect(staff.locator("#reports-days tfoot td").first).to_have_text("3")
    await expect(_stat(staff, "reports", "covers")).to_have_text("11")
    phone = staff.locator("#reports-sources tbody tr", has_text="Phone")
    await expect(phone.locator("td")).to_have_text(["2", "7"])
    await screenshot(staff, "reports")
    await assert_accessible(staff, "reports")

    async with staff.expect_download() as downloading:
        await staff.get_by_role("button", name="Download CSV").click()
    download = await downloading.value
    assert download.suggested_filename == f"bookings-{day.isoformat()}-to-{last.isoformat()}.csv"
    saved = await download.path()
    text = saved.read_bytes().decode("utf-8")  # as written: CRLF line ends
    expected = await client.get(
        f"/api/v1/venues/{venue.id}/admin/reports/bookings",
        params={"from": day.isoformat(), "to": last.isoformat()},
        headers={**admin, "Accept": "text/csv"},
    )
    assert text == expected.text
    lines = text.splitlines()
    assert lines[0] == "date,bookings,covers,cancellations,no_shows,occupancy_rate"
    assert lines[1].startswith(f"{day.isoformat()},2,6,1,0,")
    assert lines[2].startswith(f"{(day + dt.timedelta(days=1)).isoformat()},1,5,0,0,")
    assert len(lines) == 4


async def test_a_report_range_is_checked_beside_its_fields_and_presets_end_today(
    staff: Page, own_venue: OwnVenueMaker
) -> None:
    venue = await own_venue()
    await choose_venue(staff, venue)
    await staff.goto("/console#reports")
    today = venue_now().date()

    await staff.locator("#reports-preset").select_option("30")
    await expect(staff.locator("#reports-chart-svg g.day")).to_have_count(30)
    assert await staff.locator("#reports-to").input_value() in {
        today.isoformat(),
        (today + dt.timedelta(days=1)).isoformat(),
    }
    to = dt.date.fromisoformat(await staff.locator("#reports-to").input_value())
    await expect(staff.locator("#reports-from")).to_have_value(
        (to - dt.timedelta(days=29)).isoformat()
    )
    await staff.locator("#reports-preset").select_option("month")
    await expect(staff.locator("#reports-from")).to_have_value(to.replace(day=1).isoformat())

    await staff.locator("#reports-from").fill((to + dt.timedelta(days=3)).isoformat())
    await staff.get_by_role("button", name="Show").click()
    await expect(staff.locator("#reports-to-error")).to_have_text(
        "The last day must not be before the first."
    )
    await expect(staff.locator("#reports-to")).to_have_attribute("aria-invalid", "true")
    await expect(staff.locator("#reports-problem")).to_contain_text("Check the marked fields.")
    await expect(staff.locator("#reports-preset")).to_have_value("custom")


# --- notifications ---------------------------------------------------------------------------


async def test_notifications_filter_by_status_and_a_failed_one_is_retried_from_the_console(
    staff: Page,
    client: Client,
    admin: Headers,
    own_venue: OwnVenueMaker,
    pool: AsyncConnectionPool[Any],
    database_url: str,
    days: Iterator[dt.date],
) -> None:
    venue = await own_venue()
    email, rows = await failed_confirmation(client, admin, pool, database_url, venue.id, next(days))
    await choose_venue(staff, venue)

    await staff.goto("/console#notifications")
    table = staff.locator("#notifications-table")
    await expect(table.locator("tbody tr")).to_have_count(len(rows))
    await expect(table.locator("tr.nt-skipped").first).to_contain_text("the guest left no phone")
    await screenshot(staff, "notifications")
    await assert_accessible(staff, "notifications")

    await staff.locator("#notifications-status").get_by_text("Failed").click()
    failed = table.locator(f"tr[data-id='{email}']")
    await expect(table.locator("tbody tr")).to_have_count(1)
    await expect(failed.locator(".nt-status")).to_have_text("✕ failed")
    await expect(failed).to_contain_text("Booking confirmation")
    await expect(failed.locator(".nt-error")).to_contain_text("ConnectionRefusedError")
    await failed.get_by_role("button", name="Retry").click()

    await expect(staff.locator("#notifications-said")).to_contain_text("queued to be sent again")
    await expect(staff.locator("#notifications-list")).to_contain_text("No failed notifications.")
    assert await status_of(pool, email) == ("pending", 1)
    await staff.locator("#notifications-status").get_by_text("Pending").click()
    await expect(table.locator(f"tr[data-id='{email}'] .nt-status")).to_have_text("… pending")

    with Mailbox() as mailbox:
        await deliver(pool, database_url, mailbox.port)
    await staff.locator("#notifications-status").get_by_text("Sent").click()
    sent = table.locator(f"tr[data-id='{email}']")
    await expect(sent.locator(".nt-status")).to_have_text("✓ sent")
    await expect(sent.locator("td.num")).to_have_text("2")
    await expect(sent.get_by_role("button", name="Retry")).to_have_count(0)


# --- who sees them, and at which sizes ------------------------------------------------------


async def test_hosts_see_none_of_the_managers_screens(
    page: Page, client: Client, admin: Headers, own_venue: OwnVenueMaker, new_user: NewUser
) -> None:
    venue = await own_venue()
    await signed_in(page, await host_at(client, admin, new_user, venue.id))
    await choose_venue(page, venue)

    for screen in ("dashboard", "reports", "notifications"):
        await page.goto(f"/console#{screen}")
        await expect(page.locator("#floor")).to_be_visible()
        await expect(page.locator(f"#{screen}")).to_be_hidden()
    nav = page.locator("#nav")
    await expect(nav.get_by_role("button", name="Evening floor")).to_be_visible()
    for title in ("Dashboard", "Reports", "Notifications"):
        await expect(nav.get_by_role("button", name=title)).to_have_count(0)


@pytest.mark.parametrize("page", [PHONE, TABLET], indirect=True, ids=["phone", "tablet"])
async def test_the_three_screens_fit_a_phone_and_a_tablet(
    staff: Page,
    client: Client,
    admin: Headers,
    own_venue: OwnVenueMaker,
    pool: AsyncConnectionPool[Any],
    days: Iterator[dt.date],
) -> None:
    venue = await own_venue()
    day = next(days)
    await _caught_up(client, admin, venue, await _a_known_day(client, admin, venue, day))
    await book_with_email(client, admin, venue.id, day)
    await choose_venue(staff, venue)

    await staff.goto("/console#dashboard")
    await expect(_stat(staff, "dashboard", "tables")).to_have_text("6")
    await _no_sideways_scroll(staff, "dashboard")
    assert await _smallest_text(staff, "dashboard") >= 12

    await staff.goto("/console#reports")
    await staff.locator("#reports-preset").select_option("30")
    await expect(staff.locator("#reports-chart-svg g.day")).to_have_count(30)
    await _no_sideways_scroll(staff, "reports")
    assert await _smallest_text(staff, "reports") >= 12
    await assert_accessible(staff, "reports")

    await staff.goto("/console#notifications")
    await expect(staff.locator("#notifications-table tbody tr").first).to_be_visible()
    await _no_sideways_scroll(staff, "notifications")
    assert await _smallest_text(staff, "notifications") >= 12
    filter_box = await staff.locator("#notifications-status label").first.bounding_box()
    assert filter_box is not None
    assert filter_box["height"] >= 24  # a tap target
