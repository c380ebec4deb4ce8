"""What a projection does with `PersonErased`: the personal fields it kept of the person
read from then on as the store reads them once the person's key is gone.

The values are `booking_core.domain.personal.erased_value`'s: `ERASED` for a required
field (a guest's name), None for an optional one. A rebuild or a replay after the erasure
reads every event of the person with exactly those values, so a live model that scrubs
what it kept equals a rebuilt one, row for row.

The rows keep their `person` (a random id, not personal data) and every non-personal fact
(party size, tables, times, statuses, versions): reports and statistics do not move.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from psycopg import AsyncConnection, sql

from booking_core.domain.events import PersonErased
from booking_core.domain.personal import erased_value
from booking_core.domain.streams import venue_of
from projectors.base import Decoded

__all__ = ["erased_columns", "erased_persons", "scrub_rows"]


def erased_columns(columns: Iterable[str]) -> dict[str, str | None]:
    """Each personal column with what it reads as once its person is erased."""
    return {column: erased_value(column) for column in columns}


def erased_persons(batch: Sequence[Decoded]) -> set[tuple[str, str]]:
    """The `(venue_id, person)` pairs the batch erases."""
    return {
        (venue_of(record.stream_id), event.person)
        for record, event in batch
        if isinstance(event, PersonErased)
    }


async def scrub_rows(
    connection: AsyncConnection[Any],
    table: sql.Identifier,
    columns: Iterable[str],
    venue_id: str,
    person: str,
) -> None:
    """Set the person's rows' personal `columns` of `table` to their erased values."""
    erased = erased_columns(columns)
    assignments = sql.SQL(", ").join(
        sql.SQL("{} = %s").format(sql.Identifier(column)) for column in erased
    )
    await connection.execute(
        sql.SQL("UPDATE {t} SET {a} WHERE venue_id = %s AND person = %s").format(
            t=table, a=assignments
        ),
        (*erased.values(), venue_id, person),
    )
