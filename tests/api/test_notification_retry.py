"""Staff send a failed notification again: `POST /admin/notifications/{id}/retry` puts it
back in the sender's queue, and the real sender delivers it. Each test books in a venue of
its own; the mail server is aiosmtpd on loopback, or a port nobody listens on."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from psycopg_pool import AsyncConnectionPool

from tests.api.conftest import Headers, NewUser, OwnVenueMaker, grant_role, host_at, problem_of
from tests.api.outbox import deliver, failed_confirmation, outbox_rows, status_of
from tests.support.providers import Mailbox

Client = AsyncTestClient[Litestar]


async def test_a_failed_email_is_retried_and_then_sent(
    client: Client,
    admin: Headers,
    own_venue: OwnVenueMaker,
    pool: AsyncConnectionPool[Any],
    database_url: str,
    days: Iterator[dt.date],
) -> None:
    venue = await own_venue()
    scope = f"/api/v1/venues/{venue.id}/admin/notifications"
    email, _ = await failed_confirmation(client, admin, pool, database_url, venue.id, next(days))
    failed = (await client.get(scope, params={"status": "failed"}, headers=admin)).json()
    (listed,) = [n for n in failed["items"] if n["id"] == email]
    assert "ConnectionRefusedError" in listed["last_error"]

    retried = await client.post(f"{scope}/{email}/retry", headers=admin)

    assert retried.status_code == 200, retried.text
    row = retried.json()
    assert (row["id"], row["status"], row["attempts"]) == (email, "pending", 1)
    assert "X-Consistency-Token" not in retried.headers  # the outbox is not a projection
    with Mailbox() as mailbox:
        await deliver(pool, database_url, mailbox.port)
    assert await status_of(pool, email) == ("sent", 2)
    (message,) = [m for m in mailbox.messages if m["To"] == row["recipient"]]
    assert "Ada Lovelace" in message.get_body().get_content()  # type: ignore[union-attr]
    sent = (await client.get(scope, params={"status": "sent"}, headers=admin)).json()
    (now_sent,) = [n for n in sent["items"] if n["id"] == email]
    assert now_sent["last_error"] is None
    assert now_sent["sent_at"] is not None

    again = await client.post(f"{scope}/{email}/retry", headers=admin)
    problem = problem_of(again, 409, "notification-not-failed")
    assert problem["detail"] == ("This notification was sent; only a failed one can be sent again.")


async def test_a_repeated_retry_with_its_key_retries_once_and_one_without_is_refused(
    client: Client,
    admin: Headers,
    own_venue: OwnVenueMaker,
    pool: AsyncConnectionPool[Any],
    database_url: str,
    days: Iterator[dt.date],
) -> None:
    venue = await own_venue()
    scope = f"/api/v1/venues/{venue.id}/admin/notifications"
    email, _ = await failed_confirmation(client, admin, pool, database_url, venue.id, next(days))
    keyed = {**admin, "Idempotency-Key": f"retry-{email}"}

    first = await client.post(f"{scope}/{email}/retry", headers=keyed)
    repeat = await client.post(f"{scope}/{email}/retry", headers=keyed)
    unkeyed = await client.post(f"{scope}/{email}/retry", headers=admin)

    assert first.status_code == repeat.status_code == 200, (first.text, repeat.text)
    assert repeat.headers["Idempotent-Replayed"] == "true"
    assert repeat.json() == first.json()
    problem = problem_of(unkeyed, 409, "notification-not-failed")
    assert problem["detail"] == (
        "This notification is waiting to be sent; only a failed one can be sent again."
    )
    assert await status_of(pool, email) == ("pending", 1)
    with Mailbox() as mailbox:  # leave nothing due for the tests after
        await deliver(pool, database_url, mailbox.port)


async def test_a_venue_sees_and_retries_only_its_own_notifications(
    client: Client,
    admin: Headers,
    own_venue: OwnVenueMaker,
    new_user: NewUser,
    pool: AsyncConnectionPool[Any],
    database_url: str,
    days: Iterator[dt.date],
) -> None:
    ours, theirs = await own_venue(), await own_venue()
    email, _ = await failed_confirmation(client, admin, pool, database_url, ours.id, next(days))
    elsewhere = f"/api/v1/venues/{theirs.id}/admin/notifications"
    listed = (await client.get(elsewhere, headers=admin)).json()["items"]
    assert email not in {n["id"] for n in listed}
    missing = await client.post(f"{elsewhere}/{email}/retry", headers=admin)
    assert missing.status_code == 404, missing.text
    assert missing.json()["detail"] == "This venue has no such notification."

    host = await host_at(client, admin, new_user, ours.id)
    ours_path = f"/api/v1/venues/{ours.id}/admin/notifications/{email}/retry"
    assert (await client.post(ours_path, headers=host)).status_code == 403
    assert await status_of(pool, email) == ("failed", 1)

    manager, user = await new_user("Mina Manager")
    await grant_role(client, admin, ours.id, user["id"], "manager")
    assert (await client.post(ours_path, headers=manager)).status_code == 200
    with Mailbox() as mailbox:
        await deliver(pool, database_url, mailbox.port)
    assert await status_of(pool, email) == ("sent", 2)


async def test_a_message_about_a_booking_that_has_started_is_not_sent_again(
    client: Client,
    admin: Headers,
    own_venue: OwnVenueMaker,
    pool: AsyncConnectionPool[Any],
    database_url: str,
    days: Iterator[dt.date],
) -> None:
    venue = await own_venue()
    email, _ = await failed_confirmation(client, admin, pool, database_url, venue.id, next(days))
    async with pool.connection() as connection:  # the booking's start, moved into the past
        await connection.execute(
            "UPDATE notifications SET details = jsonb_set(details, '{starts_at}', %s)"
            " WHERE id = %s",
            ('"2001-01-01T12:00:00Z"', email),
        )

    refused = await client.post(
        f"/api/v1/venues/{venue.id}/admin/notifications/{email}/retry", headers=admin
    )

    problem = problem_of(refused, 409, "notification-too-late")
    assert "already started" in problem["detail"]
    assert await status_of(pool, email) == ("failed", 1)


async def test_a_message_about_a_booking_cancelled_since_is_not_sent_again(
    client: Client,
    admin: Headers,
    own_venue: OwnVenueMaker,
    pool: AsyncConnectionPool[Any],
    database_url: str,
    days: Iterator[dt.date],
) -> None:
    venue = await own_venue()
    email, _ = await failed_confirmation(client, admin, pool, database_url, venue.id, next(days))
    booking_id = await booking_of(pool, email)
    cancelled = await client.delete(
        f"/api/v1/venues/{venue.id}/bookings/{booking_id}", headers=admin
    )
    assert cancelled.status_code == 200, cancelled.text
    await outbox_rows_of_kind(pool, booking_id, "cancelled")  # the newer message is there

    refused = await client.post(
        f"/api/v1/venues/{venue.id}/admin/notifications/{email}/retry", headers=admin
    )

    problem = problem_of(refused, 409, "notification-superseded")
    assert "changed or been cancelled" in problem["detail"]
    assert await status_of(pool, email) == ("failed", 1)


async def booking_of(pool: AsyncConnectionPool[Any], notification_id: str) -> str:
    async with pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT booking_id FROM notifications WHERE id = %s", (notification_id,)
        )
        found = await cursor.fetchone()
    assert found is not None
    return str(found[0])


async def outbox_rows_of_kind(pool: AsyncConnectionPool[Any], booking_id: str, kind: str) -> None:
    """Wait until the daemon has written the booking's `kind` messages."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if kind in {k for k, _ in (await outbox_rows(pool, booking_id)).values()}:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {kind} message for {booking_id}")
