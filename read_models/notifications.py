"""Notifications as staff read them: the outbox, newest first, filtered by status,
booking or channel, a page at a time.

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

__all__ = [
    "MAX_LIMIT",
    "InvalidCursor",
    "NotificationChannel",
    "NotificationPage",
    "NotificationRow",
    "NotificationStatus",
    "list_notifications",
]

MAX_LIMIT: Final = 200
NotificationStatus = Literal["pending", "sending", "sent", "failed", "skipped", "cancelled"]
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
    status: NotificationStatus | None = None,
    booking_id: str | None = None,
    channel: NotificationChannel | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> NotificationPage:
    """A page of notifications, newest first. Raises `InvalidCursor` for a cursor it did
    not make and `ValueError` for a limit outside 1..MAX_LIMIT."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    conditions: list[sql.Composable] = []
    params: list[Any] = []
    for column, value in (("status", status), ("booking_id", booking_id), ("channel", channel)):
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
