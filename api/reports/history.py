"""Admins' views of the past and of what went out: time travel and notifications.

Time-travel reads are computed from the event store up to the instant (`as_of`), with the
same rules as the live reads, so they answer "what would a guest asking at that moment
have been told?".
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from litestar import Controller, get
from litestar.params import FromQuery, QueryParameter

from api.bookings.views import TablesAtOut, tables_out
from api.context import ApiDep, bad_cursor
from api.requests import AUTH, check_date, check_instant
from api.schemas import CursorParam, LimitParam, parse_time
from api.venue_scope import StaffDep, venue_managers
from read_models.as_of import availability_as_of
from read_models.notifications import (
    MAX_LIMIT,
    InvalidCursor,
    NotificationChannel,
    NotificationPage,
    NotificationStatus,
    list_notifications,
)

__all__ = ["AdminHistoryController"]

AsOf = Annotated[
    dt.datetime,
    QueryParameter(
        description="The instant to look back to, ISO-8601 with an offset (`2026-12-24T19:00:00Z`)"
    ),
]


class AdminHistoryController(Controller):
    path = "/admin"
    tags = ["admin: history"]
    security = AUTH
    guards = [venue_managers]

    @get("/availability", summary="Every table's status for one start time, as it stood then")
    async def availability_as_of(
        self,
        api: ApiDep,
        staff: StaffDep,
        date: FromQuery[dt.date],
        time: Annotated[str, QueryParameter(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")],
        as_of: AsOf,
        party_size: Annotated[int, QueryParameter(ge=1, le=100)] = 2,
        duration_minutes: Annotated[int | None, QueryParameter(ge=15, le=720)] = None,
    ) -> TablesAtOut:
        found = await availability_as_of(
            api.store,
            staff.venue_id,
            day=check_date(date),
            at=parse_time(time),
            as_of=await check_instant(api, as_of),
            party_size=party_size,
            duration_minutes=duration_minutes,
        )
        return tables_out(found)

    @get("/notifications", summary="Emails and text messages: sent, pending, failed")
    async def notifications(
        self,
        api: ApiDep,
        staff: StaffDep,
        status: Annotated[NotificationStatus | None, QueryParameter()] = None,
        booking_id: Annotated[str | None, QueryParameter(max_length=200)] = None,
        channel: Annotated[NotificationChannel | None, QueryParameter()] = None,
        limit: LimitParam = 50,
        cursor: CursorParam = None,
    ) -> NotificationPage:
        try:
            return await list_notifications(
                api.services.pool,
                status=status,
                booking_id=booking_id,
                channel=channel,
                limit=min(limit, MAX_LIMIT),
                cursor=cursor,
            )
        except InvalidCursor:
            raise bad_cursor() from None
