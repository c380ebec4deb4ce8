"""What the floor routes share: bounded field types, the live feed's `Last-Event-ID`,
the cursors of pages keyed on an instant, and the 404 for a table the venue does not list.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from api.context import Api, bad_cursor, cursor_decode, cursor_encode
from booking_core.domain.errors import TableNotFound
from booking_core.domain.values import TableShape
from read_models.venue import TableRow, table

__all__ = [
    "LAST_EVENT_ID",
    "AreaName",
    "Coordinate",
    "EntityId",
    "Extent",
    "Rotation",
    "Shape",
    "after_instant",
    "instant_cursor",
    "listed_table",
]


EntityId = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"^[^@]+$")]
AreaName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Coordinate = Annotated[float, msgspec.Meta(ge=-100_000, le=100_000)]
# ge, not gt: the schema keeps a lower bound on optional fields only as `minimum`.
Extent = Annotated[float, msgspec.Meta(ge=0.01, le=100_000)]
Rotation = Annotated[float, msgspec.Meta(ge=-360, le=360, description="Degrees")]
Shape = TableShape
LAST_EVENT_ID = r"^(0|[0-9]{1,19}-[0-9]{1,19})?$"
"""`Last-Event-ID`: an id the live status stream sent (a Redis stream entry id, which fits in 64-bit
halves), `0` for everything kept, or empty for none (as the SSE spec has it)."""


def instant_cursor(last: tuple[dt.datetime, str] | None) -> str | None:
    """The cursor of a page keyed on `(instant, id)` whose last row is `last`."""
    return cursor_encode(last[0].isoformat(), last[1]) if last else None


def after_instant(cursor: str | None) -> tuple[dt.datetime, str] | None:
    """Where a page made by `instant_cursor` ends, or None for the first page."""
    if not cursor:
        return None
    instant, entity_id = cursor_decode(cursor, 2)
    try:
        return dt.datetime.fromisoformat(str(instant)), str(entity_id)
    except ValueError:
        raise bad_cursor() from None


async def listed_table(api: Api, venue_id: str, table_id: str) -> TableRow:
    """The table as the venue's read model lists it; 404 if it has none."""
    row = await table(api.services.pool, venue_id, table_id)
    if row is None:
        raise TableNotFound(table_id)
    return row
