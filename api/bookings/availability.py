"""Free tables and start times, for guests and anyone else: public, no token needed.

Answers come from the availability read model in Redis, and honour
`X-Consistency-Token`; a snapshot may trail the model by `AVAILABILITY_STALENESS`.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.params import QueryParameter

from api.bookings.views import TablesAtOut, tables_out
from api.context import (
    CONSISTENCY_HEADER,
    ApiDep,
    json_body,
)
from api.requests import check_date
from api.schemas import (
    hhmm,
    parse_time,
)
from api.venue_scope import VenueDep
from read_models.availability import (
    holds_until,
    slots_in,
    tables_in,
)

__all__ = ["AvailabilityController"]

DateParam = Annotated[dt.date, QueryParameter(description="Venue-local date, YYYY-MM-DD")]

_json = msgspec.json.Encoder().encode


class SlotOut(msgspec.Struct, frozen=True):
    time: str
    tables_available: Annotated[
        int,
        msgspec.Meta(
            description="Tables, and table combinations, that fit the party and are free then"
            " (1 or more)"
        ),
    ]
    date: Annotated[
        dt.date,
        msgspec.Meta(
            description="The start's calendar date, the one to book it with: the asked date, "
            "or the next one for a start after midnight in a shift that runs past it"
        ),
    ]


@functools.lru_cache(maxsize=8192)
def _slot_out(day: dt.date, at: dt.time, tables_available: int) -> SlotOut:
    """Slots repeat from read to read (a day has at most 96 starts): made once each."""
    return SlotOut(time=hhmm(at), tables_available=tables_available, date=day)


class SlotsOut(msgspec.Struct, frozen=True):
    date: dt.date
    party_size: int
    slots: list[SlotOut]


AVAILABILITY_STALENESS = 0.02
"""Seconds an availability read without `X-Consistency-Token` may trail the model: the
model's version is then checked at most this often per process, not on every read. A
read with the token always checks, after waiting for it."""


def _staleness(request: Request[Any, Any, Any]) -> float:
    return 0.0 if CONSISTENCY_HEADER in request.headers else AVAILABILITY_STALENESS


class AvailabilityController(Controller):
    tags = ["availability"]
    security = []

    @get(
        "/bookings/tables",
        summary="Every table's status for one start time",
        description="A table is `available` exactly when a booking of it at this start, "
        "made now, would be accepted (and `fits_party` says whether the party fits it). "
        "A start the booking rules refuse for now or for that day (in the past, inside "
        "the lead time, beyond the booking window, a closed day, outside opening hours, "
        "a turn that would run past closing) is `closed` for every table. `combinations` "
        "lists the venue's table combinations the same way: one is `available` when every "
        "one of its tables is. A time that "
        "can never be booked is refused with the same 422 problem a booking of it gets: "
        "a wall-clock time the clocks skip that day in the venue's time zone "
        "(`.../problems/nonexistent-local-time`), or one off the slot grid counted from "
        "the shift's opening (`.../problems/off-slot-grid`).",
    )
    async def tables(
        self,
        api: ApiDep,
        venue: VenueDep,
        request: Request[Any, Any, Any],
        date: DateParam,
        time: Annotated[str, QueryParameter(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")],
        party_size: Annotated[int, QueryParameter(ge=1, le=100)] = 2,
        duration_minutes: Annotated[int | None, QueryParameter(ge=15, le=720)] = None,
    ) -> Response[TablesAtOut]:
        await api.consistent(request, redis=("availability",))
        day, at = check_date(date), parse_time(time)
        snapshot = await api.availability(venue.id, day, _staleness(request))
        now = dt.datetime.now(dt.UTC)

        def work() -> tuple[bytes, dt.datetime]:
            found = tables_in(
                snapshot,
                day=day,
                at=at,
                party_size=party_size,
                duration_minutes=duration_minutes,
                now=now,
            )
            return _json(tables_out(found)), holds_until(snapshot, now, [found.starts_at])

        key = ("tables", day, at, party_size, duration_minutes)
        return json_body(snapshot.remember(key, now, work))

    @get(
        "/availability",
        summary="Every bookable start time of a day",
        description="`date` is a service date: a shift that runs past midnight lists its "
        "late starts here, each slot with the calendar `date` to book it with. A start "
        "is listed exactly when a booking of it for this party, made now, would be "
        "accepted for some table; `tables_available` counts the tables that fit the "
        "party and are free then, and the table combinations that fit it with every one "
        "of their tables free (a party of 8 is offered a start when a combination seating "
        "8 is free then).",
    )
    async def slots(
        self,
        api: ApiDep,
        venue: VenueDep,
        request: Request[Any, Any, Any],
        date: DateParam,
        party_size: Annotated[int, QueryParameter(ge=1, le=100)],
    ) -> Response[SlotsOut]:
        await api.consistent(request, redis=("availability",))
        day = check_date(date)
        snapshot = await api.availability(venue.id, day, _staleness(request))
        now = dt.datetime.now(dt.UTC)

        def work() -> tuple[bytes, dt.datetime]:
            found = slots_in(snapshot, day=day, party_size=party_size, now=now)
            minutes = snapshot.settings.turn_minutes(party_size)
            starts = (s.starts_at for s in snapshot.index.slots(day, minutes))
            out = SlotsOut(
                date=day,
                party_size=party_size,
                slots=[_slot_out(s.date, s.time, s.tables_available) for s in found],
            )
            return _json(out), holds_until(snapshot, now, starts)

        return json_body(snapshot.remember(("slots", day, party_size), now, work))
