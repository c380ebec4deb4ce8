"""Erasing a person in tests: the store's part done by hand until the store does it.

What the store guarantees after an erasure is that every read of the person's events
shows their personal fields as erased (`booking_core.domain.personal.erased_value`), and
that `PersonErased` is in their venue's `person-{id}` stream. `erase_by_hand` writes
exactly that: the events' personal fields replaced by their erased values, then the
event appended.
"""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from booking_core.domain.personal import PERSONAL_FIELDS, erased_value
from booking_core.store import EventStore, StreamAppend

__all__ = ["erase_by_hand"]


async def erase_by_hand(
    store: EventStore, pool: AsyncConnectionPool[Any], person: str, appends: list[StreamAppend]
) -> None:
    """Make every stored event of `person` read as erased, then append `appends` (the
    `PersonErased`)."""
    async with pool.connection() as connection, connection.transaction():
        for event_type, fields in PERSONAL_FIELDS.items():
            await connection.execute(
                "UPDATE events SET data = data || %s WHERE type = %s AND data->>'person' = %s",
                (Jsonb({field: erased_value(field) for field in fields}), event_type, person),
            )
    await store.append(appends)
