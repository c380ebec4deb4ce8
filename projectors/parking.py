"""Parked venues: an event one projection cannot apply stops that venue, not everyone.

When a projection's own code fails on an event (an exception from its apply code, not a
server that went away), the event's venue is parked for that projection:

- the park is recorded (`projection_parked_venues`: projection, venue, the failing
  event's token, the error's class and message, never the event's data) and logged once;
- from that token on, the venue's events are held back for that projection, while every
  other venue's are applied and the checkpoint moves on. "Held back" is decided by token,
  not by venue alone, so a batch read again after a crash still applies the venue's
  events from before the failing one;
- `tablebook projectors unpark` asks for the venue to be resumed once the cause is
  fixed. The daemon then applies the held-back events, from the failing one up to the
  checkpoint, in log order, before it deletes the park; until it has, the venue's newer
  events stay held back, so nothing is applied out of order. For a SQL projection this
  happens in one transaction that holds the checkpoint's lock (exactly once); a Redis
  projection's commands are idempotent per event, so applying again is harmless. If an
  event still fails, the venue is parked again at that event.

A rebuild applies every event, held back or not, and fails on one that still fails; the
rebuilt projection's parks go with its swap (in the same transaction, for SQL).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection

from booking_core.domain.streams import venue_of
from booking_core.store import ConsistencyToken, EventStore, RecordedEvent
from projectors import metrics
from projectors.base import Decoded, SqlProjection, TableNames
from resilience.faults import unavailable_server

__all__ = [
    "Held",
    "Park",
    "apply_sql_part",
    "clear_park",
    "forget_parks",
    "held_venues",
    "is_held",
    "list_parks",
    "lock_park",
    "park",
    "request_resume",
    "resume_requested",
    "venue_events",
]

log = logging.getLogger("tablebook.projectors")

_MESSAGE_LIMIT = 500
_PAGE = 1000

Held = dict[str, ConsistencyToken]
"""A projection's parked venues: venue id → the token from which its events are held."""


@dataclass(frozen=True, slots=True)
class Park:
    projection: str
    venue_id: str
    token: ConsistencyToken
    error_class: str
    error_message: str
    parked_at: datetime
    resume_requested_at: datetime | None


_COLUMNS = (
    "projection, venue_id, tx, position, error_class, error_message, parked_at, resume_requested_at"
)


def _park(row: tuple[Any, ...]) -> Park:
    return Park(
        projection=row[0],
        venue_id=row[1],
        token=ConsistencyToken(int(row[2]), int(row[3])),
        error_class=row[4],
        error_message=row[5],
        parked_at=row[6],
        resume_requested_at=row[7],
    )


def is_held(held: Held, record: RecordedEvent) -> bool:
    """Whether `record` is held back: its venue is parked at or before it."""
    since = held.get(venue_of(record.stream_id))
    return since is not None and record.token >= since


async def held_venues(connection: AsyncConnection[Any], names: Sequence[str]) -> dict[str, Held]:
    """Each projection's parked venues (projections with none are left out)."""
    cursor = await connection.execute(
        "SELECT projection, venue_id, tx, position FROM projection_parked_venues"
        " WHERE projection = ANY(%s)",
        (list(names),),
    )
    found: dict[str, Held] = {}
    for name, venue_id, tx, position in await cursor.fetchall():
        found.setdefault(name, {})[venue_id] = ConsistencyToken(int(tx), int(position))
    return found


async def list_parks(connection: AsyncConnection[Any]) -> list[Park]:
    cursor = await connection.execute(
        f"SELECT {_COLUMNS} FROM projection_parked_venues"  # noqa: S608 - constants
        " ORDER BY projection, venue_id"
    )
    return [_park(row) for row in await cursor.fetchall()]


async def park(
    connection: AsyncConnection[Any], projection: str, record: RecordedEvent, error: Exception
) -> None:
    """Park `record`'s venue for `projection` at `record` (again, if it was being resumed)."""
    venue_id = venue_of(record.stream_id)
    await connection.execute(
        "INSERT INTO projection_parked_venues"
        " (projection, venue_id, tx, position, error_class, error_message)"
        " VALUES (%s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (projection, venue_id) DO UPDATE SET tx = excluded.tx,"
        " position = excluded.position, error_class = excluded.error_class,"
        " error_message = excluded.error_message, parked_at = now(),"
        " resume_requested_at = NULL",
        (
            projection,
            venue_id,
            record.tx,
            record.position,
            type(error).__qualname__,
            str(error)[:_MESSAGE_LIMIT],
        ),
    )
    metrics.PARKS.labels(projection).inc()
    log.error(
        "venue parked",
        extra={
            "projection": projection,
            "venue": venue_id,
            "position": str(record.token),
            "error_class": type(error).__qualname__,
        },
    )


async def lock_park(
    connection: AsyncConnection[Any], projection: str, venue_id: str
) -> Park | None:
    cursor = await connection.execute(
        f"SELECT {_COLUMNS} FROM projection_parked_venues"  # noqa: S608 - constants
        " WHERE projection = %s AND venue_id = %s FOR UPDATE",
        (projection, venue_id),
    )
    row = await cursor.fetchone()
    return _park(row) if row else None


async def clear_park(
    connection: AsyncConnection[Any], projection: str, venue_id: str, token: ConsistencyToken
) -> None:
    """Lift the park, if it is still the one at `token` that was asked to resume."""
    cursor = await connection.execute(
        "DELETE FROM projection_parked_venues WHERE projection = %s AND venue_id = %s"
        " AND tx = %s AND position = %s AND resume_requested_at IS NOT NULL",
        (projection, venue_id, token.tx, token.position),
    )
    if cursor.rowcount:
        log.info("venue resumed", extra={"projection": projection, "venue": venue_id})


async def forget_parks(connection: AsyncConnection[Any], projections: Sequence[str]) -> None:
    """Drop the projections' parks: a rebuild has just applied every event to them."""
    await connection.execute(
        "DELETE FROM projection_parked_venues WHERE projection = ANY(%s)", (list(projections),)
    )


async def request_resume(connection: AsyncConnection[Any], projection: str, venue_id: str) -> bool:
    """Ask the daemon to resume the venue; False if it is not parked for `projection`."""
    cursor = await connection.execute(
        "UPDATE projection_parked_venues SET resume_requested_at = now()"
        " WHERE projection = %s AND venue_id = %s",
        (projection, venue_id),
    )
    return cursor.rowcount > 0


async def resume_requested(
    connection: AsyncConnection[Any], names: Sequence[str]
) -> list[tuple[str, str]]:
    """`(projection, venue_id)` of the parks of `names` that an operator asked to resume."""
    cursor = await connection.execute(
        "SELECT projection, venue_id FROM projection_parked_venues"
        " WHERE resume_requested_at IS NOT NULL AND projection = ANY(%s)"
        " ORDER BY projection, venue_id",
        (list(names),),
    )
    return [(row[0], row[1]) for row in await cursor.fetchall()]


async def venue_events(
    store: EventStore, venue_id: str, start: ConsistencyToken, end: ConsistencyToken
) -> list[RecordedEvent]:
    """The venue's events from `start` (included) to `end` (included), in log order."""
    after = ConsistencyToken(start.tx, start.position - 1)  # just before `start`
    found: list[RecordedEvent] = []
    while True:
        page = await store.read_all(after, _PAGE, venue=venue_id)
        for record in page:
            if record.token > end:
                return found
            found.append(record)
        if len(page) < _PAGE:
            return found
        after = page[-1].token


async def apply_sql_part(
    connection: AsyncConnection[Any],
    projection: SqlProjection,
    tables: TableNames,
    part: Sequence[Decoded],
    held: Held,
) -> None:
    """Apply `part` but the events held back, in the caller's transaction. When the
    projection fails, its events are applied one at a time, each in a savepoint; one
    that fails parks its venue (in this transaction, and in `held`), and that venue's
    later events are held back. Server faults are raised: the round is tried again."""
    todo = [item for item in part if not is_held(held, item[0])]
    if not todo:
        return
    try:
        async with connection.transaction():
            await projection.apply(connection, tables, todo)
        return
    except Exception as error:
        if unavailable_server(error):
            raise
        log.warning(
            "batch failed; applying its events one at a time",
            extra={"projection": projection.name},
        )
    for item in todo:
        if is_held(held, item[0]):
            continue
        try:
            async with connection.transaction():
                await projection.apply(connection, tables, [item])
        except Exception as error:
            if unavailable_server(error):
                raise
            await park(connection, projection.name, item[0], error)
            held[venue_of(item[0].stream_id)] = item[0].token
