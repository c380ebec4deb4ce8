"""The floor's history as its streams record it: a table's, and the venue's.

What a write answers with beyond the state its command produced comes from here: the
command's state knows a table's spec and a layout's content, but not when the table was
added, which version the read models show (a table's blocks move its stream but not its
`version`), the period of a block that is gone, or the reason a reopened day had. Those
are facts of the stream's past, so they are read from the stream, once, right after the
write, and never from a projection that may not have caught up yet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

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
from booking_core.domain.streams import streams_of
from booking_core.domain.table import TableState
from booking_core.domain.venue import Layout, VenueState
from booking_core.store import EventStore

__all__ = ["LayoutFacts", "TableHistory", "VenueHistory", "table_history", "venue_history"]


@dataclass(frozen=True, slots=True)
class TableHistory:
    state: TableState
    version: int
    """The version of the table's last add, change or retirement (blocks do not count):
    what the read model shows as the table's `version`."""
    created_at: dt.datetime | None
    blocks: Mapping[str, BlockPlaced]
    """Every block ever placed on the table, lifted or not."""


async def table_history(store: EventStore, venue_id: str, table_id: str) -> TableHistory:
    state: TableState = TABLE.initial
    version = 0
    created_at = None
    blocks: dict[str, BlockPlaced] = {}
    for record in await store.read_stream(streams_of(venue_id).table(table_id)):
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


async def venue_history(store: EventStore, venue_id: str) -> VenueHistory:
    state: VenueState = VENUE_KIND.initial
    layouts: dict[str, LayoutFacts] = {}
    reasons: dict[dt.date, str] = {}
    for record in await store.read_stream(streams_of(venue_id).venue):
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
