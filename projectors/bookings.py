"""Bookings (SQL): one row per booking in its current state, for guests' lists, staff
lists with filters, and search by guest name, phone or email.

A `PersonErased` scrubs the guest's personal columns of every row of that person
(`projectors.erasure`), once the batch's rows are written.

A batch is folded in memory, one row per booking it touches, and written back at once (a
binary COPY into a staging table, then one upsert): the rows it did not place itself are
read first, in one query. That keeps a rebuild of a million events to a few hundred round
trips.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from psycopg import AsyncConnection, sql

from booking_core.domain.events import (
    BookingCancelled,
    BookingChanged,
    BookingCompleted,
    BookingMarkedNoShow,
    BookingPlaced,
    BookingSeated,
)
from booking_core.domain.streams import venue_of
from projectors.base import Decoded, TableNames
from projectors.erasure import erased_persons, scrub_rows
from read_models.bookings_layout import (
    COLUMN_TYPES,
    COLUMNS,
    NAME,
    PERSONAL_COLUMNS,
    STAGE,
    TABLE,
)

__all__ = ["BookingsProjection"]

_BOOKING_EVENTS = (
    BookingChanged,
    BookingCancelled,
    BookingSeated,
    BookingCompleted,
    BookingMarkedNoShow,
)
_STATUS_AT: dict[type[Any], tuple[str, str]] = {
    BookingCancelled: ("cancelled", "cancelled_at"),
    BookingSeated: ("seated", "seated_at"),
    BookingCompleted: ("completed", "completed_at"),
    BookingMarkedNoShow: ("no_show", "marked_at"),
}

Row = dict[str, Any]


def _placed(event: BookingPlaced, version: int, venue_id: str) -> Row:
    return {
        "id": event.booking_id,
        "venue_id": venue_id,
        "table_ids": list(event.table_ids),
        "service_date": event.service_date,
        "date": event.date,
        "time": event.time,
        "end_time": event.end_time,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "party_size": event.party_size,
        "duration_minutes": event.duration_minutes,
        "guest_name": event.guest_name,
        "guest_phone": event.guest_phone,
        "guest_email": event.guest_email,
        "special_requests": event.special_requests,
        "status": "confirmed",
        "user_id": event.user_id,
        "source": event.source,
        "version": version,
        "created_at": event.placed_at,
        "updated_at": event.placed_at,
        "person": event.person,
    }


def _changed(row: Row, event: BookingChanged, version: int) -> None:
    row.update(
        table_ids=list(event.table_ids),
        service_date=event.service_date,
        date=event.date,
        time=event.time,
        end_time=event.end_time,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        party_size=event.party_size,
        duration_minutes=event.duration_minutes,
        guest_name=event.guest_name,
        guest_phone=event.guest_phone,
        guest_email=event.guest_email,
        special_requests=event.special_requests,
        version=version,
        updated_at=event.changed_at,
    )
    if event.person is not None:
        row["person"] = event.person


class BookingsProjection:
    name: ClassVar[str] = NAME
    tables: ClassVar[tuple[str, ...]] = (TABLE,)

    async def apply(
        self, connection: AsyncConnection[Any], tables: TableNames, batch: Sequence[Decoded]
    ) -> None:
        placed_here: set[str] = set()
        to_load: set[str] = set()
        for _, event in batch:
            if isinstance(event, BookingPlaced):
                placed_here.add(event.booking_id)
            elif isinstance(event, _BOOKING_EVENTS) and event.booking_id not in placed_here:
                to_load.add(event.booking_id)
        if placed_here or to_load:
            await self._fold(connection, tables, batch, to_load)
        # After the batch's rows are written: a row read back from the table and written
        # again still has what the person's earlier events said.
        for venue_id, person in sorted(erased_persons(batch)):
            await scrub_rows(connection, tables[TABLE], PERSONAL_COLUMNS, venue_id, person)

    async def _fold(
        self,
        connection: AsyncConnection[Any],
        tables: TableNames,
        batch: Sequence[Decoded],
        to_load: set[str],
    ) -> None:
        rows = await self._load(connection, tables, to_load)
        for record, event in batch:
            match event:
                case BookingPlaced():
                    rows[event.booking_id] = _placed(
                        event, record.version, venue_of(record.stream_id)
                    )
                case BookingChanged() if event.booking_id in rows:
                    _changed(rows[event.booking_id], event, record.version)
                case (
                    BookingCancelled()
                    | BookingSeated()
                    | BookingCompleted()
                    | (BookingMarkedNoShow())
                ) if event.booking_id in rows:
                    status, at_field = _STATUS_AT[type(event)]
                    rows[event.booking_id].update(
                        status=status, version=record.version, updated_at=getattr(event, at_field)
                    )
                case _:
                    pass
        await self._store(connection, tables, list(rows.values()))

    async def _load(
        self, connection: AsyncConnection[Any], tables: TableNames, ids: set[str]
    ) -> dict[str, Row]:
        if not ids:
            return {}
        query = sql.SQL("SELECT {cols} FROM {t} WHERE id = ANY(%s)").format(
            cols=sql.SQL(", ").join(map(sql.Identifier, COLUMNS)), t=tables[TABLE]
        )
        cursor = await connection.execute(query, (list(ids),))
        return {row[0]: dict(zip(COLUMNS, row, strict=True)) for row in await cursor.fetchall()}

    async def _store(
        self, connection: AsyncConnection[Any], tables: TableNames, rows: list[Row]
    ) -> None:
        """Upsert every row: a binary COPY into a session-local staging table, then one
        INSERT ... ON CONFLICT from it (the staging rows vanish at commit)."""
        if not rows:
            return
        await connection.execute(_STAGE)
        async with connection.cursor() as cursor:
            async with cursor.copy(_COPY) as copy:
                copy.set_types(list(COLUMN_TYPES))
                for row in rows:
                    await copy.write_row([row[column] for column in COLUMNS])
            await cursor.execute(_upsert(tables))


_STAGE = sql.SQL("CREATE TEMP TABLE IF NOT EXISTS {} ({}) ON COMMIT DELETE ROWS").format(
    sql.Identifier(STAGE),
    sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t))
        for c, t in zip(COLUMNS, COLUMN_TYPES, strict=True)
    ),
)
_COPY = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
    sql.Identifier(STAGE), sql.SQL(", ").join(map(sql.Identifier, COLUMNS))
)


def _upsert(tables: TableNames) -> sql.Composed:
    cols = sql.SQL(", ").join(map(sql.Identifier, COLUMNS))
    updates = sql.SQL(", ").join(
        sql.SQL("{c} = excluded.{c}").format(c=sql.Identifier(c)) for c in COLUMNS[1:]
    )
    return sql.SQL(
        "INSERT INTO {t} ({cols}) SELECT {cols} FROM {stage}"
        " ON CONFLICT (id) DO UPDATE SET {updates}"
    ).format(t=tables[TABLE], cols=cols, updates=updates, stage=sql.Identifier(STAGE))
