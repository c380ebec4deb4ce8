"""Notifications as staff read them: the outbox, newest first, filtered by venue, status,
booking or channel, a page at a time; and staff's one change to it, sending a failed
notification again (`retry_notification`).

The cursor is opaque to callers: it encodes the last row's `(created_at, id)`, so a page
never repeats or skips a row however many are added meanwhile (new rows sort before it).
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any, Final, Literal

import msgspec
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from projectors.notifications import WAKE_CHANNEL

__all__ = [
    "MAX_LIMIT",
    "QUEUED",
    "InvalidCursor",
    "NotFailed",
    "NotificationChannel",
    "NotificationPage",
    "NotificationRow",
    "NotificationStatus",
    "RetryTooLate",
    "Superseded",
    "list_notifications",
    "outbox_depth",
    "retry_notification",
]

MAX_LIMIT: Final = 200
NotificationStatus = Literal["pending", "sending", "sent", "failed", "skipped", "cancelled"]
QUEUED: Final[tuple[NotificationStatus, ...]] = ("pending", "sending", "failed")
"""The states of the outbox's depth: waiting to go, going, and given up on (staff may
send those again). Sent, skipped and cancelled messages only pile up as history."""
NotificationChannel = Literal["email", "sms"]
NotificationKind = Literal["placed", "changed", "cancelled", "reminder", "table_ready"]
"""`table_ready` tells a waiting party its table is ready: its `booking_id` is the waitlist
entry's id and its `booking_version` the version of the day's waitlist stream."""


class InvalidCursor(ValueError):
    """The cursor was not one this module handed out."""


class NotificationRow(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    booking_id: str
    kind: NotificationKind
    channel: NotificationChannel
    booking_version: int
    status: NotificationStatus
    recipient: str | None
    """The email address or phone number; `account:{user_id}` for an email to the account
    that booked (the guest gave no address; it is looked up when sent)."""
    due_at: datetime
    attempts: int
    last_error: str | None
    reason: str | None
    provider_ref: str | None
    sent_at: datetime | None
    created_at: datetime
    updated_at: datetime


class NotificationPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[NotificationRow]
    next_cursor: str | None
    """Pass it back for the next page; None on the last one."""


_COLUMNS: Final = tuple(NotificationRow.__struct_fields__)
_Position = tuple[datetime, str]


async def outbox_depth(pool: AsyncConnectionPool[Any]) -> dict[str, int]:
    """How many messages are in each of the `QUEUED` states (all of them, 0 for none)."""
    async with pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT status, count(*) FROM notifications WHERE status = ANY(%s) GROUP BY status",
            (list(QUEUED),),
        )
        found = {str(row[0]): int(row[1]) for row in await cursor.fetchall()}
    return {state: found.get(state, 0) for state in QUEUED}


def _encode_cursor(created_at: datetime, notification_id: str) -> str:
    raw = msgspec.json.encode([created_at.isoformat(), notification_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> _Position:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, notification_id = msgspec.json.decode(raw, type=tuple[str, str])
        return datetime.fromisoformat(created_at), notification_id
    except (binascii.Error, msgspec.DecodeError, ValueError):
        raise InvalidCursor(f"not a notifications cursor: {cursor!r}") from None


async def list_notifications(
    pool: AsyncConnectionPool[Any],
    *,
    venue_id: str | None = None,
    status: NotificationStatus | None = None,
    booking_id: str | None = None,
    channel: NotificationChannel | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> NotificationPage:
    """A page of notifications (of one venue, or of all), newest first. Raises
    `InvalidCursor` for a cursor it did not make and `ValueError` for a limit outside
    1..MAX_LIMIT."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    conditions: list[sql.Composable] = []
    params: list[Any] = []
    filters = (
        ("venue_id", venue_id),
        ("status", status),
        ("booking_id", booking_id),
        ("channel", channel),
    )
    for column, value in filters:
        if value is not None:
            conditions.append(sql.SQL("{} = %s").format(sql.Identifier(column)))
            params.append(value)
    if cursor is not None:
        conditions.append(sql.SQL("(created_at, id) < (%s, %s)"))
        params.extend(_decode_cursor(cursor))
    where = sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("true")
    query = sql.SQL(
        "SELECT {cols} FROM notifications WHERE {where} ORDER BY created_at DESC, id DESC LIMIT %s"
    ).format(cols=sql.SQL(", ").join(map(sql.Identifier, _COLUMNS)), where=where)
    async with pool.connection() as connection:
        result = await connection.execute(query, [*params, limit + 1])
        rows = await result.fetchall()
    items = [NotificationRow(**dict(zip(_COLUMNS, row, strict=True))) for row in rows[:limit]]
    last = items[-1] if len(rows) > limit else None
    return NotificationPage(
        items=items, next_cursor=_encode_cursor(last.created_at, last.id) if last else None
    )


class NotFailed(Exception):
    """Only a failed notification is sent again; this one is in another state."""

    def __init__(self, row: NotificationRow) -> None:
        super().__init__(f"notification {row.id} is {row.status}, not failed")
        self.row = row


class RetryTooLate(Exception):
    """The message is about a booking that has started: sent now it would only confuse."""

    def __init__(self, row: NotificationRow) -> None:
        super().__init__(f"notification {row.id} is about a booking that has started")
        self.row = row


class Superseded(Exception):
    """The booking has changed (or was cancelled) since this message was written: what it
    says is no longer true, and the guest was sent (or is being sent) the newer one."""

    def __init__(self, row: NotificationRow) -> None:
        super().__init__(f"notification {row.id} speaks of a booking that has changed since")
        self.row = row


# A newer message on the same channel about the same booking (or waitlist entry).
_NEWER = (
    "SELECT 1 FROM notifications WHERE venue_id = %s AND booking_id = %s AND channel = %s"
    " AND booking_version > %s LIMIT 1"
)

_SELECT_FOR_RETRY = sql.SQL(
    "SELECT {cols}, details->>'starts_at' FROM notifications"
    " WHERE venue_id = %s AND id = %s FOR UPDATE"
).format(cols=sql.SQL(", ").join(map(sql.Identifier, _COLUMNS)))

# Back to the sender's queue, due at once. `attempts` and `last_error` stay: the list
# keeps showing what happened, and the sender counts this attempt after the earlier ones
# (a notification that had used up its attempts gets one more; see tablebook.notifications).
_REQUEUE = sql.SQL(
    "UPDATE notifications SET status = 'pending', next_attempt_at = %s, reason = NULL,"
    " updated_at = now() WHERE venue_id = %s AND id = %s AND status = 'failed'"
    " RETURNING {cols}"
).format(cols=sql.SQL(", ").join(map(sql.Identifier, _COLUMNS)))

# A booking's message after the booking has started is of no use to the guest. A
# waiting party's "your table is ready" has no start of its own: staff judge that one.
_TIED_TO_THE_START: Final = frozenset({"placed", "changed", "cancelled", "reminder"})


def _started(row: NotificationRow, starts_at: str | None, now: datetime) -> bool:
    if row.kind not in _TIED_TO_THE_START or starts_at is None:
        return False
    return datetime.fromisoformat(starts_at) <= now


async def retry_notification(
    pool: AsyncConnectionPool[Any], venue_id: str, notification_id: str, now: datetime
) -> NotificationRow | None:
    """Put a failed notification of the venue back in the sender's queue, due at `now`
    (the sender's clock decides what is due, so the caller passes the application's);
    wake the sender. Answers the row as it now is, or None when the venue has no such
    notification. Raises `NotFailed` for one in any other state, `RetryTooLate` for a
    message about a booking that has started, and `Superseded` for one about a booking
    that has changed or been cancelled since."""
    async with pool.connection() as connection, connection.transaction():
        cursor = await connection.execute(_SELECT_FOR_RETRY, (venue_id, notification_id))
        found = await cursor.fetchone()
        if found is None:
            return None
        row = NotificationRow(**dict(zip(_COLUMNS, found[:-1], strict=True)))
        if row.status != "failed":
            raise NotFailed(row)
        if _started(row, found[-1], now):
            raise RetryTooLate(row)
        newer = await connection.execute(
            _NEWER, (venue_id, row.booking_id, row.channel, row.booking_version)
        )
        if await newer.fetchone() is not None:
            raise Superseded(row)
        cursor = await connection.execute(_REQUEUE, (now, venue_id, notification_id))
        updated = await cursor.fetchone()
        assert updated is not None  # the row is locked and was failed
        # Wakes the sender as the transaction commits, not at its next poll.
        await connection.execute("SELECT pg_notify(%s, '')", (WAKE_CHANNEL,))
    return NotificationRow(**dict(zip(_COLUMNS, updated, strict=True)))
