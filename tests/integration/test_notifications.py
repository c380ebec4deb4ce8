"""Guests hear about their bookings: placed, changed, cancelled, and reminded before they
come, by email and SMS, through a real SMTP server and a stand-in for Twilio on loopback.
The outbox is written by the notifications projection and drained by the sender."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Event
from psycopg_pool import AsyncConnectionPool

from booking_core.codec import codec
from booking_core.domain.commands import Actor, BookTable, CancelBooking, ChangeBooking
from booking_core.domain.events import BookingPlaced
from booking_core.domain.registry import LEGACY_ENTRY
from booking_core.domain.streams import DEFAULT_VENUE_ID
from booking_core.domain.values import BookingSource
from booking_core.handlers import book_table, cancel_booking, change_booking
from booking_core.store import NO_STREAM, StreamAppend
from booking_core.store.postgres import PostgresEventStore
from projectors.notifications import NotificationsProjection
from projectors.runner import SqlProjectionRunner
from projectors.venues import VenuesProjection
from read_models.notifications import InvalidCursor, list_notifications
from tablebook.notifications import Sender, transports
from tablebook.notifications_transports import Transport
from tablebook.settings import NotificationSettings, Settings, SmtpSettings, TwilioSettings
from tests.support.catch_up import sql_caught_up
from tests.support.providers import FakeTwilio, Mailbox, free_port
from tests.support.scope import STREAMS, TEST_VENUE, TEST_VENUE_SLUG
from tests.support.venue import command_id, days_ahead, open_venue

ZONE = "America/New_York"
GUEST = Actor(user_id="u-ada")
HOST = Actor(user_id="u-host", role="host")
ADA = "Ada <Lovelace> & Co"
BASE_URL = "https://book.example.test"


@pytest.fixture
async def store(
    clean_store: PostgresEventStore, pool: AsyncConnectionPool[Any]
) -> PostgresEventStore:
    async with pool.connection() as connection:
        await connection.execute("TRUNCATE notifications, notification_venue, rm_venues")
        await connection.execute(
            "DELETE FROM projection_checkpoints WHERE name IN ('notifications', 'venues')"
        )
    return clean_store


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with Mailbox() as box:
        yield box


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


def settings_for(
    database_url: str,
    *,
    smtp_port: int | None = None,
    twilio: FakeTwilio | None = None,
    max_attempts: int = 3,
) -> Settings:
    return Settings(
        database_url=database_url,
        public_base_url=BASE_URL,
        smtp=SmtpSettings(
            host="127.0.0.1" if smtp_port else None,
            port=smtp_port or 25,
            sender="bookings@tablebook.test",
        ),
        twilio=TwilioSettings(
            account_sid="AC-test-account" if twilio else None,
            auth_token="twilio-secret" if twilio else None,
            sender="+15550001111" if twilio else None,
            api_base=twilio.base_url if twilio else "https://api.twilio.com",
        ),
        notifications=NotificationSettings(
            timeout_seconds=2.0, backoff_seconds=0.05, max_attempts=max_attempts, poll_seconds=0.1
        ),
    )


@pytest.fixture
async def make_sender(pool: AsyncConnectionPool[Any], database_url: str) -> AsyncIterator[Any]:
    opened: list[Transport | str] = []

    def make(settings: Settings) -> Sender:
        channels = transports(settings)
        opened.extend(channels.values())
        return Sender(
            pool,
            database_url,
            channels,
            settings.notifications,
            public_base_url=settings.public_base_url,
        )

    yield make
    for transport in opened:
        if not isinstance(transport, str):
            await transport.aclose()


async def project(
    store: PostgresEventStore,
    pool: AsyncConnectionPool[Any],
    projection: NotificationsProjection | None = None,
) -> None:
    runner = SqlProjectionRunner(projection or NotificationsProjection(), store, codec, pool)
    await sql_caught_up(runner, pool)
    # The venue directory: the sender reads the venue's name and slug from it.
    await SqlProjectionRunner(VenuesProjection(), store, codec, pool).catch_up()


async def settle(sender: Sender, pool: AsyncConnectionPool[Any], timeout: float = 10.0) -> None:
    """Deliver until nothing due is left (retries included)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        await sender.step()
        async with pool.connection() as connection:
            cursor = await connection.execute(
                "SELECT count(*) FROM notifications"
                " WHERE status IN ('pending', 'sending') AND due_at <= %s",
                (datetime.now(UTC),),  # the sender's clock, not the database server's
            )
            row = await cursor.fetchone()
        if row is not None and row[0] == 0:
            return
        assert asyncio.get_running_loop().time() < deadline, "notifications never settled"
        await asyncio.sleep(0.05)


async def statuses(pool: AsyncConnectionPool[Any]) -> dict[str, tuple[str, str | None]]:
    async with pool.connection() as connection:
        cursor = await connection.execute("SELECT id, status, reason FROM notifications")
        return {row[0]: (row[1], row[2]) for row in await cursor.fetchall()}


async def place(
    store: PostgresEventStore,
    now: datetime,
    *,
    booking_id: str = "b-ada",
    days: int = 3,
    at: time = time(19, 30),
    email: str | None = "ada@example.test",
    phone: str | None = "+15557654321",
    name: str = ADA,
    actor: Actor = GUEST,
    source: BookingSource = "online",
) -> None:
    await book_table(
        store,
        BookTable(
            venue_id=TEST_VENUE,
            command_id=command_id(),
            actor=actor,
            source=source,
            now=now,
            booking_id=booking_id,
            date=days_ahead(now, days),
            time=at,
            party_size=4,
            guest_name=name,
            guest_email=email,
            guest_phone=phone,
            table_ids=("T1",),
        ),
    )


async def move(
    store: PostgresEventStore, now: datetime, booking_id: str, actor: Actor, **change: Any
) -> None:
    command = ChangeBooking(
        venue_id=TEST_VENUE,
        command_id=command_id(),
        actor=actor,
        now=now,
        booking_id=booking_id,
        **change,
    )
    await change_booking(store, command)


async def cancel(store: PostgresEventStore, now: datetime, booking_id: str, actor: Actor) -> None:
    command = CancelBooking(
        venue_id=TEST_VENUE, command_id=command_id(), actor=actor, now=now, booking_id=booking_id
    )
    await cancel_booking(store, command)


async def given_ada_booked(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any], **guest: Any
) -> None:
    now = datetime.now(UTC)
    await open_venue(store, now, ZONE)
    await place(store, now, **guest)
    await project(store, pool)


def parts(message: EmailMessage) -> tuple[str, str]:
    plain = message.get_body(preferencelist=("plain",))
    rich = message.get_body(preferencelist=("html",))
    assert plain is not None
    assert rich is not None
    return str(plain.get_content()), str(rich.get_content())


async def test_placed_changed_and_cancelled_reach_the_guest_by_email_and_sms(
    store: PostgresEventStore,
    pool: AsyncConnectionPool[Any],
    database_url: str,
    mailbox: Mailbox,
    twilio: FakeTwilio,
    make_sender: Any,
) -> None:
    now = datetime.now(UTC)
    await open_venue(store, now, ZONE)
    await place(store, now)
    await move(store, now, "b-ada", GUEST, time=time(20, 15))
    await cancel(store, now, "b-ada", GUEST)
    await project(store, pool)
    sender = make_sender(settings_for(database_url, smtp_port=mailbox.port, twilio=twilio))
    await settle(sender, pool)

    subjects = sorted(str(m["Subject"]).strip().split(":")[0] for m in mailbox.messages)
    assert subjects == [
        "Your booking has changed",
        "Your booking is cancelled",
        "Your table is booked",
    ]
    assert {str(m["To"]) for m in mailbox.messages} == {"ada@example.test"}
    assert {str(m["From"]) for m in mailbox.messages} == {"bookings@tablebook.test"}
    # One calendar entry, replaced by the change and removed by the cancellation.
    by_subject = {str(m["Subject"]).strip().split(":")[0]: calendar_of(m) for m in mailbox.messages}
    placed, changed, cancelled = (
        by_subject[s]
        for s in ("Your table is booked", "Your booking has changed", "Your booking is cancelled")
    )
    assert placed is not None
    assert changed is not None
    assert cancelled is not None
    assert [str(c["method"]) for c in (placed, changed, cancelled)] == [
        "REQUEST",
        "REQUEST",
        "CANCEL",
    ]
    entries = [event_of(c) for c in (placed, changed, cancelled)]
    assert {str(e["uid"]) for e in entries} == {"b-ada@book.example.test"}
    assert [e.decoded("sequence") for e in entries] == [1, 2, 3]
    moved = entries[1].decoded("dtstart")
    assert entries[1]["dtstart"].params["TZID"] == ZONE
    assert moved == datetime.combine(days_ahead(now, 3), time(20, 15), ZoneInfo(ZONE))
    assert entries[1].decoded("dtend") - moved == timedelta(hours=2)
    bodies = sorted(request.form["Body"].split(":")[0] for request in twilio.requests)
    assert bodies == [
        "Your booking has changed",
        "Your booking is cancelled",
        "Your table is booked",
    ]
    for request in twilio.requests:
        assert request.path == "/2010-04-01/Accounts/AC-test-account/Messages.json"
        assert request.credentials == ("AC-test-account", "twilio-secret")
        assert request.form["To"] == "+15557654321"
        assert request.form["From"] == "+15550001111"
    found = await statuses(pool)
    reminders = {k: v for k, v in found.items() if ":reminder:" in k}
    assert {status for status, _ in reminders.values()} == {"cancelled"}
    assert {s for k, (s, _) in found.items() if ":reminder:" not in k} == {"sent"}


async def test_an_email_has_both_parts_in_the_venues_time_zone_with_the_name_escaped(
    store: PostgresEventStore,
    pool: AsyncConnectionPool[Any],
    database_url: str,
    mailbox: Mailbox,
    make_sender: Any,
) -> None:
    now = datetime.now(UTC)
    await open_venue(store, now, ZONE)
    await place(store, now, at=time(19, 30))
    await project(store, pool)
    await settle(make_sender(settings_for(database_url, smtp_port=mailbox.port)), pool)

    (message,) = mailbox.messages
    plain, rich = parts(message)
    day = days_ahead(now, 3)
    when = f"{day:%A} {day.day} {day:%B %Y}, 19:30 ({ZONE})"
    assert when in plain
    assert when in rich
    assert f"Name: {ADA}" in plain
    assert "Ada &lt;Lovelace&gt; &amp; Co" in rich
    assert ADA not in rich
    assert "Table: WINDOW-4" in plain
    assert "4 guests" in rich
    assert str(message["Message-ID"]).endswith("@tablebook.notifications>")


async def test_a_reminder_is_due_the_lead_time_before_the_start_and_follows_a_move(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any]
) -> None:
    now = datetime.now(UTC)
    await open_venue(store, now, ZONE)
    await place(store, now, days=3, at=time(19, 30))
    await project(store, pool)
    await move(store, now, "b-ada", GUEST, date=days_ahead(now, 5))
    await project(store, pool)

    async with pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT booking_version, status, due_at, expires_at, reason FROM notifications"
            " WHERE kind = 'reminder' AND channel = 'email' ORDER BY booking_version"
        )
        (first, second) = await cursor.fetchall()
    assert first[1] == "cancelled"
    assert first[4] == "superseded by version 2"
    assert second[1] == "pending"
    assert second[3] - second[2] == timedelta(hours=24)
    assert second[3].astimezone(UTC) - first[3].astimezone(UTC) == timedelta(days=2)


async def test_a_booking_made_inside_the_reminder_window_gets_no_reminder(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any]
) -> None:
    now = datetime.now(UTC)
    await open_venue(store, now, ZONE)
    await place(store, now, days=3)
    week = NotificationsProjection(reminder_lead=timedelta(days=7))
    await project(store, pool, week)
    assert sorted(await statuses(pool)) == ["b-ada:placed:1:email", "b-ada:placed:1:sms"]


async def test_a_due_reminder_is_sent_and_one_for_a_booking_under_way_is_skipped(
    store: PostgresEventStore,
    pool: AsyncConnectionPool[Any],
    database_url: str,
    mailbox: Mailbox,
    make_sender: Any,
) -> None:
    now = datetime.now(UTC)
    booked_at = now - timedelta(minutes=10)
    await open_venue(store, booked_at, ZONE)
    await place(store, booked_at, booking_id="b-soon", phone=None, name="Grace Hopper")
    await place(store, booked_at, booking_id="b-late", phone=None, name="Alan Turing", days=4)
    starts_at = datetime.combine(days_ahead(booked_at, 3), time(19, 30), ZoneInfo(ZONE))
    # A lead that put the reminder five minutes after booking, five minutes ago.
    lead = starts_at - (booked_at + timedelta(minutes=5))
    await project(store, pool, NotificationsProjection(reminder_lead=lead))
    async with pool.connection() as connection:
        await connection.execute(
            "UPDATE notifications SET expires_at = %(now)s - interval '1 minute',"
            " due_at = %(now)s - interval '2 minutes', next_attempt_at = %(now)s"
            " WHERE booking_id = 'b-late' AND kind = 'reminder'",
            {"now": datetime.now(UTC)},
        )
    await settle(make_sender(settings_for(database_url, smtp_port=mailbox.port)), pool)

    subjects = sorted(
        f"{m['To']} {str(m['Subject']).strip().split(':')[0]}" for m in mailbox.messages
    )
    assert subjects == [
        "ada@example.test See you soon",
        "ada@example.test Your table is booked",
        "ada@example.test Your table is booked",
    ]
    found = await statuses(pool)
    assert found["b-late:reminder:1:email"] == (
        "skipped",
        "the booking had started before the reminder could be sent",
    )


async def test_applying_the_same_events_again_writes_nothing_new(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any]
) -> None:
    await given_ada_booked(store, pool)
    before = await statuses(pool)
    async with pool.connection() as connection:
        await connection.execute("DELETE FROM projection_checkpoints WHERE name = 'notifications'")
    await project(store, pool)
    assert await statuses(pool) == before
    assert len(before) == 4, "placed and reminder, by email and by SMS"


async def test_a_guest_without_email_or_phone_is_skipped_with_the_reason(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any]
) -> None:
    # Staff took it by phone: their account's address is not the guest's.
    await given_ada_booked(store, pool, email=None, phone=None, actor=HOST, source="phone")
    found = await statuses(pool)
    assert found["b-ada:placed:1:email"] == ("skipped", "the guest left no email address")
    assert found["b-ada:placed:1:sms"] == ("skipped", "the guest left no phone number")


async def test_a_channel_without_settings_is_skipped_with_the_reason(
    store: PostgresEventStore,
    pool: AsyncConnectionPool[Any],
    database_url: str,
    mailbox: Mailbox,
    make_sender: Any,
) -> None:
    await given_ada_booked(store, pool)
    await settle(make_sender(settings_for(database_url, smtp_port=mailbox.port)), pool)
    status, reason = (await statuses(pool))["b-ada:placed:1:sms"]
    assert status == "skipped"
    assert reason is not None
    assert reason.startswith("SMS is not configured")
    assert len(mailbox.messages) == 1


async def test_skips_are_one_log_line_per_sweep_counted_by_reason_naming_no_guest(
    store: PostgresEventStore,
    pool: AsyncConnectionPool[Any],
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = datetime.now(UTC)
    await open_venue(store, now, ZONE)
    for days in (3, 4, 5):
        await place(store, now, booking_id=f"b-ada-{days}", days=days)
    await project(store, pool)
    settings = settings_for(database_url)  # neither SMTP nor Twilio
    sender = Sender(pool, database_url, transports(settings), settings.notifications, batch_size=2)
    caplog.set_level(logging.INFO, logger="tablebook.notifications")
    stop = asyncio.Event()
    running = asyncio.create_task(sender.run(stop))
    deadline = asyncio.get_running_loop().time() + 10
    while not [r for r in caplog.records if r.getMessage() == "skipped"]:
        assert asyncio.get_running_loop().time() < deadline, "no line for the skipped messages"
        await asyncio.sleep(0.05)
    stop.set()
    await running

    [line] = [r for r in caplog.records if r.getMessage() == "skipped"]
    assert line.__dict__["count"] == 6, "three placements, by email and by SMS, in three batches"
    assert line.__dict__["reasons"] == (
        "SMS is not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM): 3;"
        " email is not configured (SMTP_HOST is unset): 3"
    )
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    for personal in ("ada@example.test", "+15557654321", "Lovelace", "b-ada-"):
        assert personal not in logged


async def test_an_sms_provider_that_is_down_is_retried_with_backoff_then_failed(
    store: PostgresEventStore,
    pool: AsyncConnectionPool[Any],
    database_url: str,
    twilio: FakeTwilio,
    make_sender: Any,
) -> None:
    twilio.status = 503
    await given_ada_booked(store, pool, email=None)
    await settle(make_sender(settings_for(database_url, twilio=twilio, max_attempts=3)), pool)

    assert len(twilio.requests) == 3
    page = await list_notifications(pool, booking_id="b-ada", channel="sms", status="failed")
    (failed,) = page.items
    assert failed.attempts == 3
    assert failed.last_error == "Twilio 503: refused with 503"


async def test_an_unreachable_smtp_server_is_retried_then_failed(
    store: PostgresEventStore,
    pool: AsyncConnectionPool[Any],
    database_url: str,
    make_sender: Any,
) -> None:
    await given_ada_booked(store, pool, phone=None)
    await settle(make_sender(settings_for(database_url, smtp_port=free_port())), pool)

    (failed,) = (await list_notifications(pool, channel="email", status="failed")).items
    assert failed.attempts == 3
    assert failed.last_error is not None
    assert "ConnectionRefusedError" in failed.last_error


async def test_an_sms_the_provider_refuses_fails_at_once(
    store: PostgresEventStore,
    pool: AsyncConnectionPool[Any],
    database_url: str,
    twilio: FakeTwilio,
    make_sender: Any,
) -> None:
    twilio.status = 400
    await given_ada_booked(store, pool, email=None)
    await settle(make_sender(settings_for(database_url, twilio=twilio, max_attempts=5)), pool)
    (failed,) = (await list_notifications(pool, channel="sms", status="failed")).items
    assert failed.attempts == 1
    assert len(twilio.requests) == 1


async def test_staff_page_through_notifications_newest_first_with_filters(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any]
) -> None:
    now = datetime.now(UTC)
    await open_venue(store, now, ZONE)
    for n in range(5):
        await place(store, now + timedelta(seconds=n), booking_id=f"b-{n}", at=time(8 + 2 * n, 0))
    await project(store, pool)

    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = await list_notifications(pool, channel="email", limit=3, cursor=cursor)
        seen += [row.id for row in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 10
    assert seen[:2] == ["b-4:reminder:1:email", "b-4:placed:1:email"]
    only = await list_notifications(pool, booking_id="b-2", status="pending")
    assert {row.id for row in only.items} == {
        f"b-2:{kind}:1:{channel}" for kind in ("placed", "reminder") for channel in ("email", "sms")
    }
    with pytest.raises(InvalidCursor):
        await list_notifications(pool, cursor="not-a-cursor")
    with pytest.raises(ValueError):
        await list_notifications(pool, limit=0)


def calendar_of(message: EmailMessage) -> Calendar | None:
    """The message's `.ics` attachment, parsed back; None when it carries none."""
    files = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    if not files:
        return None
    (part,) = files
    content = part.get_content()
    calendar = Calendar.from_ical(content if isinstance(content, bytes) else content.encode())
    assert part.get_param("method") == calendar["method"]
    return calendar


def event_of(calendar: Calendar) -> Event:
    (event,) = calendar.walk("VEVENT")
    assert isinstance(event, Event)
    return event


TOKEN = "manage-token-" + "x" * 20


async def place_without_account(store: PostgresEventStore, now: datetime) -> None:
    """A booking from the public page, without an account: its event carries the manage
    token (written as the booking page writes it, past the booking commands)."""
    day = days_ahead(now, 3)
    start = datetime.combine(day, time(19, 30), ZoneInfo(ZONE))
    placed = BookingPlaced(
        booking_id="b-web",
        table_ids=("T1",),
        service_date=day,
        date=day,
        time=time(19, 30),
        end_date=day,
        end_time=time(21, 30),
        starts_at=start.astimezone(UTC),
        ends_at=(start + timedelta(hours=2)).astimezone(UTC),
        party_size=2,
        duration_minutes=120,
        guest_name="Grace Hopper",
        guest_email="grace@example.test",
        manage_token=TOKEN,
        manage_token_hash=hashlib.sha256(TOKEN.encode()).hexdigest(),
        user_id="public",
        placed_at=now,
    )
    stream = STREAMS.booking("b-web")
    await store.append([StreamAppend(stream, NO_STREAM, [codec.encode(placed)])])


async def test_a_booking_without_an_account_is_confirmed_with_its_manage_link_and_no_log_has_it(
    store: PostgresEventStore,
    pool: AsyncConnectionPool[Any],
    database_url: str,
    mailbox: Mailbox,
    make_sender: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = datetime.now(UTC)
    await open_venue(store, now, ZONE)
    await place_without_account(store, now)
    await project(store, pool)
    assert await outbox_rows_holding(pool, TOKEN) == 0  # read from the sealed event when sent
    caplog.set_level(logging.DEBUG, logger="tablebook")
    await settle(make_sender(settings_for(database_url, smtp_port=mailbox.port)), pool)

    (message,) = mailbox.messages
    assert str(message["To"]) == "grace@example.test"
    slug = TEST_VENUE_SLUG if TEST_VENUE != DEFAULT_VENUE_ID else LEGACY_ENTRY.slug
    link = f"{BASE_URL}/book/{slug}?booking=b-web#token={TOKEN}"
    plain, rich = parts(message)
    assert link in plain
    assert f'href="{link}"' in rich
    calendar = calendar_of(message)
    assert calendar is not None
    assert TOKEN not in calendar.to_ical().decode()
    ours = [r for r in caplog.records if r.name.startswith("tablebook")]
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in ours)
    assert "sent" in logged
    assert TOKEN not in logged

    # A change carries the link again (the token of the placement) and a calendar entry
    # that replaces the first; the cancellation carries none.
    await move(store, now, "b-web", HOST, time=time(20, 0))
    await project(store, pool)
    await settle(make_sender(settings_for(database_url, smtp_port=mailbox.port)), pool)
    changed = mailbox.messages[1]
    assert link in parts(changed)[0]
    calendar = calendar_of(changed)
    assert calendar is not None
    assert event_of(calendar).decoded("sequence") == 2
    assert event_of(calendar)["uid"] == "b-web@book.example.test"
    await cancel(store, now, "b-web", HOST)
    await project(store, pool)
    await settle(make_sender(settings_for(database_url, smtp_port=mailbox.port)), pool)
    cancelled = mailbox.messages[2]
    assert TOKEN not in cancelled.as_string()
    # A confirmation sent again now (staff retrying it) has no link: the booking is over.
    async with pool.connection() as connection:
        await connection.execute(
            "UPDATE notifications SET status = 'pending', next_attempt_at = %s"
            " WHERE id = 'b-web:placed:1:email'",
            (datetime.now(UTC),),  # the sender's clock, not the database server's
        )
    await settle(make_sender(settings_for(database_url, smtp_port=mailbox.port)), pool)
    assert TOKEN not in mailbox.messages[3].as_string()
    assert await outbox_rows_holding(pool, TOKEN) == 0


async def outbox_rows_holding(pool: AsyncConnectionPool[Any], text: str) -> int:
    async with pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT count(*) FROM notifications WHERE details::text LIKE %s", (f"%{text}%",)
        )
        row = await cursor.fetchone()
    assert row is not None
    return int(row[0])


async def test_a_guest_booking_from_their_account_without_an_address_is_mailed_to_the_account(
    store: PostgresEventStore,
    pool: AsyncConnectionPool[Any],
    database_url: str,
    mailbox: Mailbox,
    make_sender: Any,
) -> None:
    """Only a guest's own, active account: never staff's, a deactivated or a gone one."""
    suffix = uuid.uuid4().hex[:8]
    accounts = {
        "own": (f"u-own-{suffix}", True, "system_user"),
        "off": (f"u-off-{suffix}", False, "system_user"),
        "staff": (f"u-staff-{suffix}", True, "system_user"),
        "admin": (f"u-admin-{suffix}", True, "admin"),
    }
    async with pool.connection() as connection:
        for user_id, active, role in accounts.values():
            await connection.execute(
                "INSERT INTO users (id, email, password_hash, full_name, role, is_active)"
                " VALUES (%s, %s, 'x', 'Someone', %s, %s)",
                (user_id, f"{user_id}@example.test", role, active),
            )
        await connection.execute(
            "INSERT INTO venue_staff (venue_id, user_id, role) VALUES (%s, %s, 'host')",
            (TEST_VENUE, accounts["staff"][0]),
        )
    now = datetime.now(UTC)
    await open_venue(store, now, ZONE)
    for n, (key, (user_id, _, _)) in enumerate([*accounts.items(), ("gone", ("u-gone",) * 3)]):
        actor = Actor(user_id=str(user_id))
        at = time(10 + 2 * n, 0)
        await place(store, now, booking_id=f"b-{key}", email=None, phone=None, actor=actor, at=at)
    try:
        await project(store, pool)
        await settle(make_sender(settings_for(database_url, smtp_port=mailbox.port)), pool)
    finally:
        async with pool.connection() as connection:
            ids = [a[0] for a in accounts.values()]
            await connection.execute("DELETE FROM users WHERE id = ANY(%s)", (ids,))

    own = accounts["own"][0]
    assert [str(m["To"]) for m in mailbox.messages] == [f"{own}@example.test"]
    assert calendar_of(mailbox.messages[0]) is not None
    found = await statuses(pool)
    assert found["b-own:placed:1:email"] == ("sent", None)
    assert found["b-off:placed:1:email"] == (
        "skipped",
        "the account that made the booking is deactivated",
    )
    staff = ("skipped", "the booking was made from a staff account, not the guest's")
    assert found["b-staff:placed:1:email"] == staff
    assert found["b-admin:placed:1:email"] == staff
    assert found["b-gone:placed:1:email"] == (
        "skipped",
        "the account that made the booking no longer exists",
    )
    async with pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT recipient FROM notifications WHERE id = 'b-own:placed:1:email'"
        )
        assert await cursor.fetchone() == (f"account:{own}",)
