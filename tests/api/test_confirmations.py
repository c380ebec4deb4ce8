"""Confirmations through the API and the real sender: a guest signed in who gives no
`guest_email` is mailed at their account's address, with the booking's calendar file;
staff who book for a guest without one do not get the guest's mail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from icalendar import Calendar
from litestar import Litestar
from litestar.testing import AsyncTestClient
from psycopg_pool import AsyncConnectionPool

from tests.api.conftest import Headers, NewUser, OwnVenueMaker
from tests.api.outbox import deliver, outbox_rows
from tests.support.providers import Mailbox

Client = AsyncTestClient[Litestar]


async def placed_email(pool: AsyncConnectionPool[Any], booking_id: str) -> str:
    rows = await outbox_rows(pool, booking_id)
    (email,) = [i for i, kind in rows.items() if kind == ("placed", "email")]
    return email


async def test_a_guest_without_guest_email_is_mailed_at_their_account_and_staff_are_not(
    client: Client,
    admin: Headers,
    new_user: NewUser,
    own_venue: OwnVenueMaker,
    pool: AsyncConnectionPool[Any],
    database_url: str,
    days: Iterator[dt.date],
) -> None:
    venue = await own_venue()
    guest, account = await new_user()
    day = next(days)
    path = f"/api/v1/venues/{venue.id}/bookings/"
    body = {"date": day.isoformat(), "party_size": 2, "guest_name": "Grace Hopper"}
    own = await client.post(path, json={**body, "time": "12:00"}, headers=guest)
    assert own.status_code == 201, own.text
    by_staff = await client.post(path, json={**body, "time": "14:00"}, headers=admin)
    assert by_staff.status_code == 201, by_staff.text
    own_email = await placed_email(pool, own.json()["id"])
    staff_email = await placed_email(pool, by_staff.json()["id"])

    with Mailbox() as mailbox:
        await deliver(pool, database_url, mailbox.port, "https://book.example.test")

    (message,) = [m for m in mailbox.messages if m["To"] == account["email"]]
    (part,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    content = part.get_content()
    calendar = Calendar.from_ical(content if isinstance(content, bytes) else content.encode())
    (event,) = calendar.walk("VEVENT")
    assert str(event["uid"]) == f"{own.json()['id']}@book.example.test"
    assert str(event["summary"]).endswith(": table for 2")
    async with pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT id, recipient, status, reason FROM notifications WHERE id = ANY(%s)",
            ([own_email, staff_email],),
        )
        rows = {row[0]: row[1:] for row in await cursor.fetchall()}
    assert rows[own_email] == (f"account:{account['id']}", "sent", None)
    assert rows[staff_email][1:] == (
        "skipped",
        "the booking was made from a staff account, not the guest's",
    )
