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
- no row holds a booking's manage token: the sender reads it, sealed, from the booking's
  own stream when it sends a `placed` or `changed` message (`tablebook.notifications`);
- a waiting party told its table is ready (`WaitlistGuestNotified`) gets a `table_ready`
  row per channel, due at once; its `booking_id` is the waitlist entry's id and its
  version the list's stream version (`{entry_id}:table_ready:{version}:{channel}`), so
  telling the party twice sends twice, and applying one event twice sends once;
- every row names the guest's person (`person`, the `gst_…` id of the event that made it);
  `PersonErased` scrubs all of that person's rows: no recipient, the details' personal
  fields (`PERSONAL_DETAILS`) as the store reads them once erased, any error text (it may
  quote an address) replaced, and the rows not yet sent (`pending`, `sending`, `failed`)
  `skipped` with the reason `erased`. A message a sender had already handed to its
  transport may still arrive; nothing is sent after. A row written after the erasure (a
  cancellation by staff) has no recipient and is skipped as `erased` at once.

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
import msgspec.structs
from psycopg import AsyncConnection, sql
from psycopg.types.json import Jsonb

from booking_core.domain.events import (
    BookingCancelled,
    BookingChanged,
    BookingCompleted,
    BookingMarkedNoShow,
    BookingPlaced,
    BookingSeated,
    PersonErased,
    SlotSettingsChanged,
    TableAdded,
    TableChanged,
    WaitlistGuestNotified,
)
from booking_core.domain.personal import ERASED
from projectors.base import Decoded, TableNames, by_venue
from projectors.erasure import erased_columns

__all__ = [
    "ACCOUNT_RECIPIENT",
    "CHANNELS",
    "DEFAULT_REMINDER_LEAD",
    "ERASED_REASON",
    "NAME",
    "PERSONAL_DETAILS",
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


_decode_details = msgspec.json.Decoder(BookingDetails).decode

PERSONAL_DETAILS: Final = ("guest_name", "guest_email", "guest_phone")
"""The fields of `BookingDetails` that are the guest's personal data (a field added to
it that is must be named here: an erasure scrubs these)."""
ERASED_REASON: Final = "erased"
"""Why a message to an erased person is skipped."""


def _erased(details: BookingDetails) -> BookingDetails:
    return msgspec.structs.replace(details, **erased_columns(PERSONAL_DETAILS))


@dataclass(frozen=True)
class _Known:
    """A booking's last details, and whose personal data they hold."""

    person: str | None
    details: BookingDetails


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
    person: str | None
    details: BookingDetails
    due_at: dt.datetime
    at: dt.datetime
    expires_at: dt.datetime | None = None

    @property
    def recipient(self) -> str | None:
        if self.erased:
            return None  # nor to their account: nothing more is sent about them
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
            None if recipient else self._no_recipient(),
            self.due_at,
            self.expires_at,
            self.due_at,
            self.at,
            self.at,
            self.person,
        )

    @property
    def erased(self) -> bool:
        """The guest was erased: their name reads as what an erased name reads as (and
        every other personal field as None)."""
        return self.details.guest_name == ERASED

    def _no_recipient(self) -> str:
        return ERASED_REASON if self.erased else _NO_RECIPIENT[self.channel]


_NO_RECIPIENT: Final[dict[Channel, str]] = {
    "email": "the guest left no email address",
    "sms": "the guest left no phone number",
}

_INSERT = """
INSERT INTO {t} (venue_id, id, booking_id, kind, channel, booking_version, recipient, details,
                 status, reason, due_at, expires_at, next_attempt_at, created_at, updated_at,
                 person)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (id) DO NOTHING
"""

_CANCEL_REMINDERS = """
UPDATE {t} SET status = 'cancelled', reason = %s, updated_at = %s
WHERE booking_id = %s AND kind = 'reminder' AND status = 'pending'
"""

_LATEST_DETAILS = """
SELECT DISTINCT ON (booking_id) booking_id, person, details::text FROM {t}
WHERE booking_id = ANY(%s) AND kind IN ('placed', 'changed') AND channel = 'email'
ORDER BY booking_id, booking_version DESC
"""

# Rows not yet sent are skipped; every row loses what it held of the person. An error
# text may quote the address the provider refused: it goes too.
_ERASE = """
UPDATE {t} SET
    status = CASE WHEN status IN ('pending', 'sending', 'failed') THEN 'skipped' ELSE status END,
    reason = CASE WHEN status IN ('pending', 'sending', 'failed') THEN %(reason)s ELSE reason END,
    recipient = NULL,
    details = details || %(erased)s,
    last_error = CASE WHEN last_error IS NULL THEN NULL ELSE %(reason)s END,
    updated_at = %(at)s
WHERE venue_id = %(venue)s AND person = %(person)s
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
        known: dict[str, _Known],
        version: int,
        event: object,
    ) -> int:
        match event:
            case BookingPlaced() | BookingChanged():
                before = known.get(event.booking_id)
                details = _details(event, venue, before.details if before else None)
                person = event.person or (before.person if before else None)
                known[event.booking_id] = _Known(person, details)
                kind: Kind = "placed" if isinstance(event, BookingPlaced) else "changed"
                at = event.placed_at if isinstance(event, BookingPlaced) else event.changed_at
                if kind == "changed":
                    await _cancel_reminders(
                        connection, tables, event.booking_id, f"superseded by version {version}", at
                    )
                rows = self._messages(event.booking_id, kind, version, person, details, at)
                return await _insert(connection, tables, venue.venue_id, rows)
            case BookingCancelled():
                await _cancel_reminders(
                    connection, tables, event.booking_id, "booking cancelled", event.cancelled_at
                )
                before = known.get(event.booking_id)
                if before is None:
                    return 0
                at = event.cancelled_at
                last = before.details
                rows = [
                    _Row(event.booking_id, "cancelled", c, version, before.person, last, at, at)
                    for c in CHANNELS
                ]
                return await _insert(connection, tables, venue.venue_id, rows)
            case BookingSeated() | BookingCompleted() | BookingMarkedNoShow():
                at = _finished_at(event)
                await _cancel_reminders(connection, tables, event.booking_id, "booking started", at)
                return 0
            case WaitlistGuestNotified():
                details = _ready(event, venue)
                at = event.notified_at
                rows = [
                    _Row(event.entry_id, "table_ready", c, version, event.person, details, at, at)
                    for c in CHANNELS
                ]
                return await _insert(connection, tables, venue.venue_id, rows)
            case PersonErased():
                for booking_id, kept in known.items():
                    if kept.person == event.person:
                        known[booking_id] = _Known(kept.person, _erased(kept.details))
                await _erase(connection, tables, venue.venue_id, event)
            case SlotSettingsChanged():
                venue.time_zone, venue.changed = event.time_zone, True
            case TableAdded() | TableChanged():
                venue.table_names[event.table_id], venue.changed = event.name, True
            case _:
                pass
        return 0

    def _messages(
        self,
        booking_id: str,
        kind: Kind,
        version: int,
        person: str | None,
        details: BookingDetails,
        at: dt.datetime,
    ) -> list[_Row]:
        rows = [_Row(booking_id, kind, c, version, person, details, at, at) for c in CHANNELS]
        remind_at = details.starts_at - self.reminder_lead
        if remind_at > at:
            starts = details.starts_at
            rows += [
                _Row(booking_id, "reminder", c, version, person, details, remind_at, at, starts)
                for c in CHANNELS
            ]
        return rows

    async def _load_details(
        self, connection: AsyncConnection[Any], tables: TableNames, batch: Sequence[Decoded]
    ) -> dict[str, _Known]:
        """The last details of the bookings this batch changes or cancels: a cancellation
        has none of its own, and a change keeps the account of before."""
        wanted = sorted(
            {e.booking_id for _, e in batch if isinstance(e, BookingCancelled | BookingChanged)}
        )
        if not wanted:
            return {}
        query = sql.SQL(_LATEST_DETAILS).format(t=tables["notifications"])
        cursor = await connection.execute(query, (wanted,))
        return {row[0]: _Known(row[1], _decode_details(row[2])) for row in await cursor.fetchall()}


def _details(
    event: BookingPlaced | BookingChanged, venue: _Venue, before: BookingDetails | None
) -> BookingDetails:
    if isinstance(event, BookingPlaced):
        # Only a booking made online can be the account holder's own; staff taking a
        # phone booking book under their own account (the sender checks the rest).
        account = event.user_id if event.source == "online" else None
    else:
        account = before.account if before else None
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


async def _erase(
    connection: AsyncConnection[Any], tables: TableNames, venue_id: str, event: PersonErased
) -> None:
    await connection.execute(
        sql.SQL(_ERASE).format(t=tables["notifications"]),
        {
            "reason": ERASED_REASON,
            "erased": Jsonb(erased_columns(PERSONAL_DETAILS)),
            "at": event.erased_at,
            "venue": venue_id,
            "person": event.person,
        },
    )


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
