"""The notifications outbox in API and console tests: a booking of a test's own venue
whose messages the projector daemon puts in the outbox, and one pass of the real sender
over it, delivering by SMTP to a server on loopback, or failing to reach one.

The package's daemon runs without a sender (`NOTIFY_WITH_PROJECTORS=false`), so rows stay
`pending` until a test delivers them. The sender takes every due row of the database,
other tests' included: those go to the same server (SMS is not configured, so theirs are
skipped), and no test reads another's rows.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from psycopg_pool import AsyncConnectionPool

from tablebook.notifications import Sender, transports
from tablebook.settings import (
    DEVELOPMENT_PUBLIC_BASE_URL,
    NotificationSettings,
    Settings,
    SmtpSettings,
)
from tests.api.conftest import Headers
from tests.support.providers import free_port

Client = AsyncTestClient[Litestar]

# A sender under `faketime` sees the log's stamps (the database server's clock) as old:
# the age rule must not skip a message only because the run's clock is moved.
_NEVER_TOO_OLD = 10 * 365 * 24 * 60


async def book_with_email(client: Client, admin: Headers, venue_id: str, day: dt.date) -> str:
    """A booking of a guest with an email address (no phone) at the venue; its id."""
    body = {
        "date": day.isoformat(),
        "time": "13:00",
        "party_size": 2,
        "guest_name": "Ada Lovelace",
        "guest_email": f"ada-{uuid.uuid4().hex[:8]}@example.com",
    }
    made = await client.post(f"/api/v1/venues/{venue_id}/bookings/", json=body, headers=admin)
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


async def outbox_rows(
    pool: AsyncConnectionPool[Any], booking_id: str, *, timeout: float = 10.0
) -> dict[str, tuple[str, str]]:
    """The booking's notifications once the daemon has written them: id -> (kind,
    channel)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with pool.connection() as connection:
            cursor = await connection.execute(
                "SELECT id, kind, channel FROM notifications WHERE booking_id = %s",
                (booking_id,),
            )
            rows = await cursor.fetchall()
        if rows:
            return {row[0]: (row[1], row[2]) for row in rows}
        assert asyncio.get_running_loop().time() < deadline, "no notifications were written"
        await asyncio.sleep(0.05)


async def deliver(
    pool: AsyncConnectionPool[Any],
    database_url: str,
    smtp_port: int,
    public_base_url: str = DEVELOPMENT_PUBLIC_BASE_URL,
) -> int:
    """One sender's pass over every due row, emails by SMTP to 127.0.0.1:`smtp_port`,
    each tried once (a failure is final); the links in them start with
    `public_base_url`. Answers how many rows it handled."""
    settings = Settings(
        database_url=database_url,
        public_base_url=public_base_url,
        smtp=SmtpSettings(host="127.0.0.1", port=smtp_port, sender="bookings@tablebook.test"),
        notifications=NotificationSettings(
            timeout_seconds=2.0, max_attempts=1, max_age_minutes=_NEVER_TOO_OLD
        ),
    )
    channels = transports(settings)
    try:
        sender = Sender(
            pool, database_url, channels, settings.notifications, public_base_url=public_base_url
        )
        return await sender.drain()
    finally:
        for transport in channels.values():
            if not isinstance(transport, str):
                await transport.aclose()


async def status_of(pool: AsyncConnectionPool[Any], notification_id: str) -> tuple[str, int]:
    async with pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT status, attempts FROM notifications WHERE id = %s", (notification_id,)
        )
        row = await cursor.fetchone()
    assert row is not None
    return str(row[0]), int(row[1])


async def failed_confirmation(
    client: Client,
    admin: Headers,
    pool: AsyncConnectionPool[Any],
    database_url: str,
    venue_id: str,
    day: dt.date,
) -> tuple[str, dict[str, tuple[str, str]]]:
    """A booking's email confirmation that failed once: the mail server could not be
    reached. Answers its id, and all the booking's notifications (as `outbox_rows`)."""
    booking_id = await book_with_email(client, admin, venue_id, day)
    rows = await outbox_rows(pool, booking_id)
    (email,) = [i for i, kind in rows.items() if kind == ("placed", "email")]
    await deliver(pool, database_url, free_port())  # nobody listens there
    assert await status_of(pool, email) == ("failed", 1)
    return email, rows
