"""Notifications (SQL process manager): every booking placed, changed or cancelled, and a
reminder before each booking starts, becomes an outbox row per channel (email, SMS),
written in the batch's transaction together with the checkpoint. A sender
(`tablebook.notifications`) delivers the rows; this module never talks to the outside.

Rules:

- a row's id is `{booking_id}:{kind}:{booking_version}:{channel}`; a row is only ever
  inserted `ON CONFLICT DO NOTHING`, so replaying an event changes nothing;
- a reminder is due `reminder_lead` before the start, and is only scheduled when that
  moment is still ahead of the event that asks for it (a booking made or changed inside
  the window already got its confirmation);
- a change supersedes the booking's pending reminder (it is cancelled and a new one is
  scheduled for the new start); a cancellation, seating, completion or no-show cancels it;
- a guest without an email address or phone number gets a `skipped` row naming why; an
  online booking made from an account without `guest_email` is emailed to the account:
  its row's recipient is `account:{user_id}`, and the sender looks the address up when
  it sends (`tablebook.notifications`), so no address of an account is copied here;
- the manage token of a booking made without an account rides in the details of its
  `placed` and `changed` rows only (for the link in those messages, and for the next
  change to copy); the booking's cancellation, seating, completion or no-show clears it
  from every row of the booking;
- a waiting party told its table is ready (`WaitlistGuestNotified`) gets a `table_ready`
  row per channel, due at once; its `booking_id` is the waitlist entry's id and its
  version the list's stream version (`{entry_id}:table_ready:{version}:{channel}`), so
  telling the party twice sends twice, and applying one event twice sends once.

It is not a read model: its rows record messages sent to people, so it is never rebuilt
from scratch (that would send them again), and it keeps its own memory of what a message
needs (each booking's last details, the venue's time zone and table names).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, Literal
from zoneinfo import ZoneInfo

import msgspec
from psycopg import AsyncConnection, sql
from psycopg.types.json import Jsonb

from booking_core.domain.events import (
    BookingCancelled,
    BookingChanged,
    BookingCompleted,
    BookingMarkedNoShow,
    BookingPlaced,
    BookingSeated,
    SlotSettingsChanged,
    TableAdded,
    TableChanged,
    WaitlistGuestNotified,
)
from projectors.base import Decoded, TableNames, by_venue

__all__ = [
    "ACCOUNT_RECIPIENT",
    "CHANNELS",
    "DEFAULT_REMINDER_LEAD",
    "NAME",
    "WAKE_CHANNEL",
    "BookingDetails",
    "NotificationsProjection",
    "notification_id",
]

NAME = "notifications"
WAKE_CHANNEL = "tablebook_notifications"
ACCOUNT_RECIPIENT: Final = "account:"
"""A recipient `account:{user_id}`: the address of that account, looked up when sent."""
DEFAULT_REMINDER_LEAD: Final = dt.timedelta(hours=24)
Kind = Literal["placed", "changed", "cancelled", "reminder", "table_ready"]
Channel = Literal["email", "sms"]
CHANNELS: Final[tuple[Channel, ...]] = ("email", "sms")


class BookingDetails(msgspec.Struct, frozen=True, kw_only=True):
    """What a message about a booking says: local date and time in the venue's zone."""

    guest_name: str
    guest_email: str | None
    guest_phone: str | None
    date: dt.date
    time: dt.time
    time_zone: str
    tables: tuple[str, ...]
    party_size: int
    starts_at: dt.datetime
    ends_at: dt.datetime | None = None
    """None in rows written before it was kept (their calendar file has no end)."""
    account: str | None = None
    """The account that booked online for itself: the email goes to its address when the
    guest gave none (the sender checks, when it sends, that it is a guest's account)."""
    manage_token: str | None = None
    """The manage link's token (a credential) in `placed` and `changed` rows of a booking
    made without an account, until the booking ends; None everywhere else."""


_decode_details = msgspec.json.Decoder(BookingDetails).decode


def notification_id(booking_id: str, kind: Kind, version: int, channel: Channel) -> str:
    return f"{booking_id}:{kind}:{version}:{channel}"


@dataclass
class _Venue:
    venue_id: str
    time_zone: str = "UTC"
    table_names: dict[str, str] = field(default_factory=dict)
    changed: bool = False

    def names(self, table_ids: Sequence[str]) -> tuple[str, ...]:
        return tuple(self.table_names.get(t, t) for t in table_ids)


@dataclass(frozen=True)
class _Row:
    booking_id: str
    kind: Kind
    channel: Channel
    version: int
    details: BookingDetails
    due_at: dt.datetime
    at: dt.datetime
    expires_at: dt.datetime | None = None

    @property
    def recipient(self) -> str | None:
        if self.channel == "sms":
            return self.details.guest_phone
        if self.details.guest_email:
            return self.details.guest_email
        return f"{ACCOUNT_RECIPIENT}{self.details.account}" if self.details.account else None

    def params(self) -> tuple[Any, ...]:
        recipient = self.recipient
        return (
            notification_id(self.booking_id, self.kind, self.version, self.channel),
            self.booking_id,
            self.kind,
            self.channel,
            self.version,
            recipient,
            Jsonb(msgspec.to_builtins(self.details)),
            "pending" if recipient else "skipped",
            None if recipient else _NO_RECIPIENT[self.channel],
            self.due_at,
            self.expires_at,
            self.due_at,
            self.at,
            self.at,
        )


_NO_RECIPIENT: Final[dict[Channel, str]] = {
    "email": "the guest left no email address",
    "sms": "the guest left no phone number",
}

_INSERT = """
INSERT INTO {t} (venue_id, id, booking_id, kind, channel, booking_version, recipient, details,
                 status, reason, due_at, expires_at, next_attempt_at, created_at, updated_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (id) DO NOTHING
"""

_CANCEL_REMINDERS = """
UPDATE {t} SET status = 'cancelled', reason = %s, updated_at = %s
WHERE booking_id = %s AND kind = 'reminder' AND status = 'pending'
"""

_LATEST_DETAILS = """
SELECT DISTINCT ON (booking_id) booking_id, details::text FROM {t}
WHERE booking_id = ANY(%s) AND kind IN ('placed', 'changed') AND channel = 'email'
ORDER BY booking_id, booking_version DESC
"""

_CLEAR_LINK = """
UPDATE {t} SET details = jsonb_set(details, '{{manage_token}}', 'null')
WHERE booking_id = %s AND details->>'manage_token' IS NOT NULL
"""


class NotificationsProjection:
    name: ClassVar[str] = NAME
    tables: ClassVar[tuple[str, ...]] = ("notifications", "notification_venue")

    def __init__(self, reminder_lead: dt.timedelta = DEFAULT_REMINDER_LEAD) -> None:
        self.reminder_lead = reminder_lead

    async def apply(
        self, connection: AsyncConnection[Any], tables: TableNames, batch: Sequence[Decoded]
    ) -> None:
        """Each venue's events of the batch, in their order: a message speaks of its own
        venue's time zone and tables."""
        inserted = 0
        for venue_id, events in by_venue(batch).items():
            inserted += await self._apply_venue(connection, tables, venue_id, events)
        if inserted:
            # Wakes the sender the moment these rows commit, not at its next poll.
            await connection.execute("SELECT pg_notify(%s, '')", (WAKE_CHANNEL,))

    async def _apply_venue(
        self,
        connection: AsyncConnection[Any],
        tables: TableNames,
        venue_id: str,
        batch: Sequence[Decoded],
    ) -> int:
        venue = await _load_venue(connection, tables, venue_id)
        known = await self._load_details(connection, tables, batch)
        inserted = 0
        for record, event in batch:
            inserted += await self._apply_one(
                connection, tables, venue, known, record.version, event
            )
        if venue.changed:
            await _store_venue(connection, tables, venue)
        return inserted

    async def _apply_one(
        self,
        connection: AsyncConnection[Any],
        tables: TableNames,
        venue: _Venue,
        known: dict[str, BookingDetails],
        version: int,
        event: object,
    ) -> int:
        match event:
            case BookingPlaced() | BookingChanged():
                details = _details(event, venue, known.get(event.booking_id))
                known[event.booking_id] = details
                kind: Kind = "placed" if isinstance(event, BookingPlaced) else "changed"
                at = event.placed_at if isinstance(event, BookingPlaced) else event.changed_at
                if kind == "changed":
                    await _cancel_reminders(
                        connection, tables, event.booking_id, f"superseded by version {version}", at
                    )
                rows = self._messages(event.booking_id, kind, version, details, at)
                return await _insert(connection, tables, venue.venue_id, rows)
            case BookingCancelled():
                await _cancel_reminders(
                    connection, tables, event.booking_id, "booking cancelled", event.cancelled_at
                )
                await _forget_token(connection, tables, event.booking_id)
                before = known.get(event.booking_id)
                if before is None:
                    return 0
                at = event.cancelled_at
                last = msgspec.structs.replace(before, manage_token=None)
                rows = [
                    _Row(event.booking_id, "cancelled", c, version, last, at, at) for c in CHANNELS
                ]
                return await _insert(connection, tables, venue.venue_id, rows)
            case BookingSeated() | BookingCompleted() | BookingMarkedNoShow():
                at = _finished_at(event)
                await _cancel_reminders(connection, tables, event.booking_id, "booking started", at)
                await _forget_token(connection, tables, event.booking_id)
                return 0
            case WaitlistGuestNotified():
                details = _ready(event, venue)
                at = event.notified_at
                rows = [
                    _Row(event.entry_id, "table_ready", c, version, details, at, at)
                    for c in CHANNELS
                ]
                return await _insert(connection, tables, venue.venue_id, rows)
            case SlotSettingsChanged():
                venue.time_zone, venue.changed = event.time_zone, True
            case TableAdded() | TableChanged():
                venue.table_names[event.table_id], venue.changed = event.name, True
            case _:
                pass
        return 0

    def _messages(
        self, booking_id: str, kind: Kind, version: int, details: BookingDetails, at: dt.datetime
    ) -> list[_Row]:
        rows = [_Row(booking_id, kind, c, version, details, at, at) for c in CHANNELS]
        remind_at = details.starts_at - self.reminder_lead
        if remind_at > at:
            plain = msgspec.structs.replace(details, manage_token=None)
            rows += [
                _Row(booking_id, "reminder", c, version, plain, remind_at, at, details.starts_at)
                for c in CHANNELS
            ]
        return rows

    async def _load_details(
        self, connection: AsyncConnection[Any], tables: TableNames, batch: Sequence[Decoded]
    ) -> dict[str, BookingDetails]:
        """The last details of the bookings this batch changes or cancels: a cancellation
        has none of its own, and a change keeps the account and manage token of before."""
        wanted = sorted(
            {e.booking_id for _, e in batch if isinstance(e, BookingCancelled | BookingChanged)}
        )
        if not wanted:
            return {}
        query = sql.SQL(_LATEST_DETAILS).format(t=tables["notifications"])
        cursor = await connection.execute(query, (wanted,))
        return {row[0]: _decode_details(row[1]) for row in await cursor.fetchall()}


def _details(
    event: BookingPlaced | BookingChanged, venue: _Venue, before: BookingDetails | None
) -> BookingDetails:
    if isinstance(event, BookingPlaced):
        # Only a booking made online can be the account holder's own; staff taking a
        # phone booking book under their own account (the sender checks the rest).
        account = event.user_id if event.source == "online" else None
        token = event.manage_token
    else:
        account = before.account if before else None
        token = before.manage_token if before else None
    return BookingDetails(
        guest_name=event.guest_name,
        guest_email=event.guest_email,
        guest_phone=event.guest_phone,
        date=event.date,
        time=event.time,
        time_zone=venue.time_zone,
        tables=venue.names(event.table_ids),
        party_size=event.party_size,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        account=account,
        manage_token=token,
    )


def _ready(event: WaitlistGuestNotified, venue: _Venue) -> BookingDetails:
    """A waiting party's message: its table is ready now (the list keeps no email, so it
    goes by SMS)."""
    local = event.notified_at.astimezone(ZoneInfo(venue.time_zone))
    return BookingDetails(
        guest_name=event.guest_name,
        guest_email=None,
        guest_phone=event.guest_phone,
        date=local.date(),
        time=local.time().replace(second=0, microsecond=0),
        time_zone=venue.time_zone,
        tables=(),
        party_size=event.party_size,
        starts_at=event.notified_at,
    )


def _finished_at(event: BookingSeated | BookingCompleted | BookingMarkedNoShow) -> dt.datetime:
    match event:
        case BookingSeated():
            return event.seated_at
        case BookingCompleted():
            return event.completed_at
        case BookingMarkedNoShow():
            return event.marked_at


async def _insert(
    connection: AsyncConnection[Any], tables: TableNames, venue_id: str, rows: list[_Row]
) -> int:
    async with connection.cursor() as cursor:
        await cursor.executemany(
            sql.SQL(_INSERT).format(t=tables["notifications"]),
            [(venue_id, *row.params()) for row in rows],
        )
    return len(rows)


async def _cancel_reminders(
    connection: AsyncConnection[Any],
    tables: TableNames,
    booking_id: str,
    reason: str,
    at: dt.datetime,
) -> None:
    await connection.execute(
        sql.SQL(_CANCEL_REMINDERS).format(t=tables["notifications"]), (reason, at, booking_id)
    )


async def _forget_token(
    connection: AsyncConnection[Any], tables: TableNames, booking_id: str
) -> None:
    """The booking is over (or has begun): no later message carries its manage link."""
    await connection.execute(sql.SQL(_CLEAR_LINK).format(t=tables["notifications"]), (booking_id,))


async def _load_venue(
    connection: AsyncConnection[Any], tables: TableNames, venue_id: str
) -> _Venue:
    cursor = await connection.execute(
        sql.SQL("SELECT time_zone, table_names::text FROM {t} WHERE venue_id = %s").format(
            t=tables["notification_venue"]
        ),
        (venue_id,),
    )
    row = await cursor.fetchone()
    if row is None:
        return _Venue(venue_id)
    names = msgspec.json.decode(row[1], type=dict[str, str])
    return _Venue(venue_id, time_zone=row[0], table_names=names)


async def _store_venue(connection: AsyncConnection[Any], tables: TableNames, venue: _Venue) -> None:
    await connection.execute(
        sql.SQL(
            "INSERT INTO {t} (venue_id, time_zone, table_names) VALUES (%s, %s, %s)"
            " ON CONFLICT (venue_id) DO UPDATE SET time_zone = excluded.time_zone,"
            " table_names = excluded.table_names"
        ).format(t=tables["notification_venue"]),
        (venue.venue_id, venue.time_zone, Jsonb(venue.table_names)),
    )
