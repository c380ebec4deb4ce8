"""How bookings are shown: what guests' and staff's booking routes answer with.

A write answers with the state its command produced (`written_booking`), never with a
projection's row; a read shows the bookings read model's row, to its guest or to staff.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Response

from api.context import (
    Api,
    Written,
    bad_cursor,
    cursor_decode,
    cursor_encode,
)
from api.schemas import (
    BookingOut,
    BookingPage,
    booking_from_row,
    booking_from_state,
    hhmm,
)
from booking_core.domain.booking import NoBooking
from booking_core.domain.commands import Actor
from booking_core.domain.errors import BookingNotFound
from booking_core.handlers import BookingResult
from read_models.as_of import booking_as_of, booking_history
from read_models.availability import (
    CombinationAvailability,
    TableAvailability,
    TablesAt,
)
from read_models.bookings import BookingFilter, booking, bookings_page

__all__ = [
    "HistoryEntryOut",
    "TablesAtOut",
    "booking_page",
    "history_of",
    "tables_out",
    "tagged",
    "visible_booking",
    "written_booking",
]


class TablesAtOut(msgspec.Struct, frozen=True):
    date: dt.date
    time: str
    end_time: str
    party_size: int
    duration_minutes: int
    tables: list[TableAvailability]
    combinations: Annotated[
        list[CombinationAvailability],
        msgspec.Meta(
            description="The venue's table combinations, smallest first: `available` when"
            " every one of its tables is free for the whole turn"
        ),
    ] = []


def tables_out(found: TablesAt) -> TablesAtOut:
    return TablesAtOut(
        date=found.date,
        time=hhmm(found.time),
        end_time=hhmm(found.end_time),
        party_size=found.party_size,
        duration_minutes=found.duration_minutes,
        tables=found.tables,
        combinations=found.combinations,
    )


def written_booking(result: BookingResult, venue_id: str, status: int = 200) -> Written[BookingOut]:
    if isinstance(result.booking, NoBooking):
        raise AssertionError("a booking command answered without a booking")
    body = booking_from_state(venue_id, result.booking, result.version)
    return Written(body, result.token, status, {"ETag": f'"{result.version}"'})


def tagged(booking: BookingOut) -> Response[BookingOut]:
    """A booking with its version as `ETag`, the value `If-Match` takes."""
    return Response(booking, headers={"ETag": f'"{booking.version}"'})


async def visible_booking(api: Api, actor: Actor, venue_id: str, booking_id: str) -> BookingOut:
    """The venue's booking, for its guest or the venue's staff; 404 for anyone else."""
    row = await booking(api.services.pool, venue_id, booking_id)
    if row is None or (not actor.is_staff and row.user_id != actor.user_id):
        raise BookingNotFound(booking_id)
    return booking_from_row(row)


class HistoryEntryOut(msgspec.Struct, frozen=True):
    version: int
    type: str
    at: dt.datetime
    by: str | None
    data: dict[str, Any]


async def history_of(
    api: Api, actor: Actor, venue_id: str, booking_id: str
) -> list[HistoryEntryOut]:
    """Every event of the venue's booking, for its guest or the venue's staff; 404 for
    anyone else."""
    entries = await booking_history(api.store, venue_id, booking_id)
    current = await booking_as_of(api.store, venue_id, booking_id, None)
    if isinstance(current.state, NoBooking) or not entries:
        raise BookingNotFound(booking_id)
    if not actor.is_staff and current.state.details.user_id != actor.user_id:
        raise BookingNotFound(booking_id)
    return [HistoryEntryOut(e.version, e.type, e.at, e.by, e.data) for e in entries]


async def booking_page(
    api: Api, where: BookingFilter, limit: int, cursor: str | None
) -> BookingPage:
    after = None
    if cursor:
        starts, booking_id = cursor_decode(cursor, 2)
        try:
            after = (dt.datetime.fromisoformat(str(starts)), str(booking_id))
        except ValueError:
            raise bad_cursor() from None
    rows, last = await bookings_page(api.services.pool, where, limit=limit, after=after)
    return BookingPage(
        items=[booking_from_row(row) for row in rows],
        next_cursor=cursor_encode(last[0].isoformat(), last[1]) if last else None,
    )
