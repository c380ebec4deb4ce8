"""Table combinations (SQL): one row per combination a venue still offers, as staff list
them. Defined inserts its row (once: a repeat of the event changes nothing), removed
deletes it; every value comes from the event and its record, so a rebuild writes the same
rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from psycopg import AsyncConnection, sql

from booking_core.domain.events import TableCombinationDefined, TableCombinationRemoved
from booking_core.domain.streams import venue_of
from projectors.base import Decoded, TableNames
from read_models import combinations_layout

__all__ = ["CombinationsProjection"]

_DEFINED = """
INSERT INTO {t} (venue_id, id, name, table_ids, min_capacity, capacity, version, created_at)
VALUES (%(venue)s, %(id)s, %(name)s, %(table_ids)s, %(min_capacity)s, %(capacity)s,
        %(version)s, %(at)s)
ON CONFLICT (venue_id, id) DO NOTHING
"""

_REMOVED = "DELETE FROM {t} WHERE venue_id = %(venue)s AND id = %(id)s"


class CombinationsProjection:
    name: ClassVar[str] = combinations_layout.NAME
    tables: ClassVar[tuple[str, ...]] = combinations_layout.ALL_TABLES

    async def apply(
        self, connection: AsyncConnection[Any], tables: TableNames, batch: Sequence[Decoded]
    ) -> None:
        table = tables[combinations_layout.COMBINATIONS]
        async with connection.cursor() as cursor:
            for record, event in batch:
                venue = venue_of(record.stream_id)
                match event:
                    case TableCombinationDefined():
                        await cursor.execute(
                            sql.SQL(_DEFINED).format(t=table),
                            {
                                "venue": venue,
                                "id": event.combination_id,
                                "name": event.name,
                                "table_ids": list(event.table_ids),
                                "min_capacity": event.min_capacity,
                                "capacity": event.capacity,
                                "version": record.version,
                                "at": event.defined_at or record.recorded_at,
                            },
                        )
                    case TableCombinationRemoved():
                        await cursor.execute(
                            sql.SQL(_REMOVED).format(t=table),
                            {"venue": venue, "id": event.combination_id},
                        )
                    case _:
                        pass
