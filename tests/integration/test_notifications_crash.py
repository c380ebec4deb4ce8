"""The sender as operators run it, killed with -9 in the middle of a batch and started
again: every message arrives, and a message arrives twice only if the kill fell between
handing it to the provider and recording that it went."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, time
from typing import Any

import pytest
from psycopg_pool import AsyncConnectionPool

from booking_core.codec import codec
from booking_core.domain.commands import Actor, BookTable
from booking_core.handlers import book_table
from booking_core.store.postgres import PostgresEventStore
from projectors.notifications import NotificationsProjection
from projectors.runner import SqlProjectionRunner
from tests.support.catch_up import sql_caught_up
from tests.support.providers import FakeTwilio, Mailbox
from tests.support.scope import TEST_VENUE
from tests.support.venue import TABLES, command_id, days_ahead, open_venue

BOOKINGS = 48  # 96 messages: an email and an SMS each


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with Mailbox(delay=0.03) as box:
        yield box


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio(delay=0.03) as fake:
        yield fake


def start_sender(
    database_url: str, mailbox: Mailbox, twilio: FakeTwilio
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "LOG_LEVEL": "WARNING",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(mailbox.port),
        "SMTP_FROM": "bookings@tablebook.test",
        "TWILIO_ACCOUNT_SID": "AC-test-account",
        "TWILIO_AUTH_TOKEN": "twilio-secret",
        "TWILIO_FROM": "+15550001111",
        "TWILIO_API_BASE": twilio.base_url,
        "NOTIFY_TIMEOUT_SECONDS": "1",
        "NOTIFY_LEASE_SECONDS": "2",  # a crashed sender's claim is taken back soon
        "NOTIFY_BACKOFF_SECONDS": "0.2",
        "NOTIFY_POLL_SECONDS": "0.1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tablebook.cli", "notifications", "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def count(pool: AsyncConnectionPool[Any], status: str) -> int:
    async with pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT count(*) FROM notifications WHERE status = %s AND kind <> 'reminder'",
            (status,),
        )
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def tally(pool: AsyncConnectionPool[Any]) -> dict[str, Any]:
    async with pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT status, count(*), max(last_error), max(reason) FROM notifications"
            " WHERE kind <> 'reminder' GROUP BY status"
        )
        return {row[0]: row[1:] for row in await cursor.fetchall()}


async def wait_until(condition: Any, timeout: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.02)


async def test_a_sender_killed_mid_batch_delivers_everything_duplicating_only_in_flight(
    clean_store: PostgresEventStore,
    pool: AsyncConnectionPool[Any],
    database_url: str,
    mailbox: Mailbox,
    twilio: FakeTwilio,
) -> None:
    store = clean_store
    async with pool.connection() as connection:
        await connection.execute("TRUNCATE notifications, notification_venue")
        await connection.execute("DELETE FROM projection_checkpoints WHERE name = 'notifications'")
    now = datetime.now(UTC)
    await open_venue(store, now, "Europe/Lisbon")
    for n in range(BOOKINGS):
        await book_table(
            store,
            BookTable(
                venue_id=TEST_VENUE,
                command_id=command_id(),
                actor=Actor(user_id=f"u-guest-{n}"),
                now=now,
                booking_id=f"b-{n:02d}",
                date=days_ahead(now, 2 + n // 21),
                time=time(8 + (n % 7) * 2, 0),
                party_size=2,
                guest_name=f"Guest {n:02d}",
                guest_email=f"guest{n:02d}@example.test",
                guest_phone=f"+1555000{n:04d}",
                table_ids=(list(TABLES)[(n // 7) % 3],),
            ),
        )
    await sql_caught_up(SqlProjectionRunner(NotificationsProjection(), store, codec, pool), pool)
    expected = 2 * BOOKINGS

    in_flight = 0
    sender = start_sender(database_url, mailbox, twilio)
    try:
        for kill_after in (15, 50):

            async def delivered_some(threshold: int = kill_after) -> bool:
                return len(mailbox.messages) + len(twilio.requests) >= threshold

            await wait_until(delivered_some, 30, "the sender delivered nothing")
            sender.kill()
            sender.wait(timeout=10)
            in_flight += await count(pool, "sending")
            sender = start_sender(database_url, mailbox, twilio)

        async def all_sent() -> bool:
            return await count(pool, "sent") == expected

        await wait_until(all_sent, 60, f"not every message was delivered: {await tally(pool)}")
    finally:
        sender.terminate()
        _, errors = sender.communicate(timeout=30)
    assert sender.returncode == 0, errors.decode()[-2000:]

    emails = Counter(str(m["To"]) for m in mailbox.messages)
    texts = Counter(r.form["To"] for r in twilio.requests)
    assert set(emails) == {f"guest{n:02d}@example.test" for n in range(BOOKINGS)}
    assert set(texts) == {f"+1555000{n:04d}" for n in range(BOOKINGS)}
    duplicates = sum(emails.values()) + sum(texts.values()) - expected
    assert in_flight > 0, "the kills never caught a message in flight"
    assert duplicates <= in_flight, f"{duplicates} duplicates, {in_flight} in flight"
