"""`GET /api/v1/venues/{venue_id}/clock`: the server's instant and the venue's wall clock.

The console takes "now" from here, not from the browser: a tablet whose clock is off, or
that is set to another time zone, still opens the floor at the venue's real date and
time. Public, like the directory: it names no guest and no staff. It reads the venue's
settings (a projection), so it honours `X-Consistency-Token` like the other reads.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from litestar import Controller, Request, get

from api.context import ApiDep
from api.requests import now
from api.venue_scope import VenueDep
from booking_core.domain.time_rules import to_local
from read_models.venue import venue as venue_settings

__all__ = ["VenueClock", "VenueClockController"]


class VenueClock(msgspec.Struct, frozen=True):
    now: dt.datetime
    """The server's instant, in UTC."""
    time_zone: str
    """The venue's IANA time zone."""
    date: dt.date
    """The venue's calendar date at `now`."""
    time: str
    """The venue's wall-clock time at `now`, `HH:MM`."""


class VenueClockController(Controller):
    path = "/clock"
    tags = ["venues"]

    @get(
        "/",
        summary="The server's instant and the venue's local date and time",
        description="Public. Clients take 'now' from here rather than from their own clock"
        " or time zone.",
    )
    async def clock(
        self, api: ApiDep, venue: VenueDep, request: Request[Any, Any, Any]
    ) -> VenueClock:
        await api.consistent(request, sql=("venue",))
        zone = (await venue_settings(api.services.pool, venue.id)).settings.time_zone
        instant = now()
        local = to_local(instant, zone)
        return VenueClock(
            now=instant, time_zone=zone, date=local.date(), time=local.strftime("%H:%M")
        )
