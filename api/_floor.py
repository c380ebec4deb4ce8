"""What the admin floor routes share: bounded field types, `If-Match`, and the write
side's view of a table or of the venue after a command.

A write answers from the event store, never from a projection, so it never waits for
one. The fields a command result does not carry (a table's or layout's `created_at`, the
version the read model shows, a lifted block's period) come from the stream the command
just wrote, read once more.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Request
from litestar.exceptions import HTTPException

from api.context import bad_cursor, cursor_decode, cursor_encode
from booking_core.codec import codec
from booking_core.domain.events import (
    BlockPlaced,
    ClosureAdded,
    LayoutChanged,
    LayoutCreated,
    TableAdded,
    TableChanged,
    TableRetired,
)
from booking_core.domain.folding import TABLE, VENUE_KIND
from booking_core.domain.streams import VENUE, table_stream
from booking_core.domain.table import TableState
from booking_core.domain.values import TableShape
from booking_core.domain.venue import Layout, VenueState
from booking_core.store import EventStore

__all__ = [
    "AUTH",
    "AreaName",
    "Coordinate",
    "EntityId",
    "Extent",
    "LayoutFacts",
    "Rotation",
    "Shape",
    "TableHistory",
    "VenueHistory",
    "after_instant",
    "bad_cursor",
    "if_match",
    "instant_cursor",
    "now",
    "table_history",
    "venue_history",
]

AUTH: list[dict[str, list[str]]] = [{"BearerAuth": []}]

EntityId = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"^[^@]+$")]
AreaName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Coordinate = Annotated[float, msgspec.Meta(ge=-100_000, le=100_000)]
# ge, not gt: the schema keeps a lower bound on optional fields only as `minimum`.
Extent = Annotated[float, msgspec.Meta(ge=0.01, le=100_000)]
Rotation = Annotated[float, msgspec.Meta(ge=-360, le=360, description="Degrees")]
Shape = TableShape


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


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def if_match(request: Request[Any, Any, Any]) -> int | None:
    """The version in `If-Match` (`"3"`, `W/"3"` or `3`), if the request sent one."""
    raw = request.headers.get("if-match")
    if raw is None:
        return None
    text = raw.strip().removeprefix("W/").strip('"')
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise HTTPException(status_code=400, detail='If-Match: expected a version, e.g. "3"')
    return int(text)


@dataclass(frozen=True, slots=True)
class TableHistory:
    state: TableState
    version: int
    """The version of the table's last add, change or retirement (blocks do not count):
    what the read model shows as the table's `version`."""
    created_at: dt.datetime | None
    blocks: Mapping[str, BlockPlaced]
    """Every block ever placed on the table, lifted or not."""


async def table_history(store: EventStore, table_id: str) -> TableHistory:
    state: TableState = TABLE.initial
    version = 0
    created_at = None
    blocks: dict[str, BlockPlaced] = {}
    for record in await store.read_stream(table_stream(table_id)):
        event = codec.decode(record)
        state = TABLE.evolve(state, event)
        if isinstance(event, TableAdded | TableChanged | TableRetired):
            version = record.version
        if isinstance(event, TableAdded):
            created_at = event.added_at
        elif isinstance(event, BlockPlaced):
            blocks[event.block_id] = event
    return TableHistory(state, version, created_at, blocks)


@dataclass(frozen=True, slots=True)
class LayoutFacts:
    layout: Layout
    """The layout as last created or changed (kept after it is deleted)."""
    version: int
    """The venue stream's version at that creation or change."""
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class VenueHistory:
    state: VenueState
    layouts: Mapping[str, LayoutFacts]
    closure_reasons: Mapping[dt.date, str]
    """The reason each date was last closed for (kept after it is reopened)."""


async def venue_history(store: EventStore) -> VenueHistory:
    state: VenueState = VENUE_KIND.initial
    layouts: dict[str, LayoutFacts] = {}
    reasons: dict[dt.date, str] = {}
    for record in await store.read_stream(VENUE):
        event = codec.decode(record)
        state = VENUE_KIND.evolve(state, event)
        if isinstance(event, LayoutCreated | LayoutChanged):
            known = layouts.get(event.layout_id)
            created_at = record.recorded_at
            if isinstance(event, LayoutChanged) and known is not None:
                created_at = known.created_at
            layout = state.layouts[event.layout_id]
            layouts[event.layout_id] = LayoutFacts(layout, record.version, created_at)
        elif isinstance(event, ClosureAdded):
            reasons[event.date] = event.reason
    return VenueHistory(state, layouts, reasons)
