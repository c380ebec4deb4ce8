"""Waitlist (SQL): one row per entry of every service day's list (`waitlist_layout.TABLE`).

An entry's row is made by its `WaitlistEntryAdded` and moved along by the events after
it: notified (the time of the last message and how many were sent), seated (the booking,
its tables and the actual wait) or removed (the reason). Every value comes from the
events and their stream versions, never from the clock, so a rebuild writes the same
rows; each event is applied once per batch transaction, and a row already past an
event's version is left alone, so an event applied again changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from psycopg import AsyncConnection, sql

from booking_core.domain.events import (
    PersonErased,
    WaitlistEntryAdded,
    WaitlistEntryRemoved,
    WaitlistEntrySeated,
    WaitlistGuestNotified,
)
from booking_core.domain.streams import WAITLIST_PREFIX, local_name, venue_of
from projectors.base import Decoded, TableNames
from projectors.erasure import scrub_rows
from read_models import waitlist_layout

__all__ = ["WaitlistProjection"]

_ADDED = """
INSERT INTO {t} (id, venue_id, service_date, party_size, guest_name, guest_phone, notes,
                 quoted_wait_minutes, token_hash, status, added_at, added_version, version,
                 updated_at, person)
VALUES (%(id)s, %(venue)s, %(service_date)s, %(party_size)s, %(guest_name)s, %(guest_phone)s,
        %(notes)s, %(quote)s, %(token_hash)s, 'waiting', %(at)s, %(version)s, %(version)s,
        %(at)s, %(person)s)
ON CONFLICT (venue_id, id) DO NOTHING
"""

_NOTIFIED = """
UPDATE {t} SET notified_at = %(at)s, times_notified = times_notified + 1,
    version = %(version)s, updated_at = %(at)s
WHERE venue_id = %(venue)s AND id = %(id)s AND version < %(version)s
"""

_SEATED = """
UPDATE {t} SET status = 'seated', seated_at = %(at)s, booking_id = %(booking_id)s,
    table_ids = %(table_ids)s, waited_minutes = %(waited)s,
    version = %(version)s, updated_at = %(at)s
WHERE venue_id = %(venue)s AND id = %(id)s AND version < %(version)s
"""

_REMOVED = """
UPDATE {t} SET status = 'removed', removed_at = %(at)s, removed_reason = %(reason)s,
    version = %(version)s, updated_at = %(at)s
WHERE venue_id = %(venue)s AND id = %(id)s AND version < %(version)s
"""


class WaitlistProjection:
    name: ClassVar[str] = waitlist_layout.NAME
    tables: ClassVar[tuple[str, ...]] = waitlist_layout.ALL_TABLES

    async def apply(
        self, connection: AsyncConnection[Any], tables: TableNames, batch: Sequence[Decoded]
    ) -> None:
        table = tables[waitlist_layout.TABLE]
        async with connection.cursor() as cursor:
            for record, event in batch:
                if isinstance(event, PersonErased):
                    columns = waitlist_layout.PERSONAL_COLUMNS
                    venue_id = venue_of(record.stream_id)
                    await scrub_rows(connection, table, columns, venue_id, event.person)
                    continue
                if not local_name(record.stream_id).startswith(WAITLIST_PREFIX):
                    continue
                base = {"venue": venue_of(record.stream_id), "version": record.version}
                match event:
                    case WaitlistEntryAdded():
                        added = {
                            **base,
                            "id": event.entry_id,
                            "service_date": event.service_date,
                            "party_size": event.party_size,
                            "guest_name": event.guest_name,
                            "guest_phone": event.guest_phone,
                            "notes": event.notes,
                            "quote": event.quoted_wait_minutes,
                            "token_hash": event.token_hash,
                            "at": event.added_at,
                            "person": event.person,
                        }
                        await cursor.execute(sql.SQL(_ADDED).format(t=table), added)
                    case WaitlistGuestNotified():
                        notified = {**base, "id": event.entry_id, "at": event.notified_at}
                        await cursor.execute(sql.SQL(_NOTIFIED).format(t=table), notified)
                    case WaitlistEntrySeated():
                        seated = {
                            **base,
                            "id": event.entry_id,
                            "at": event.seated_at,
                            "booking_id": event.booking_id,
                            "table_ids": list(event.table_ids),
                            "waited": event.waited_minutes,
                        }
                        await cursor.execute(sql.SQL(_SEATED).format(t=table), seated)
                    case WaitlistEntryRemoved():
                        removed = {
                            **base,
                            "id": event.entry_id,
                            "at": event.removed_at,
                            "reason": event.reason,
                        }
                        await cursor.execute(sql.SQL(_REMOVED).format(t=table), removed)
                    case _:
                        pass
