"""Admins' views of the past and of what went out: time travel and notifications.

A venue's managers see that venue's notifications only, and may send a failed one again
(`POST /admin/notifications/{id}/retry`): it goes back to `pending`, due at once, and the
sender takes it as it takes any other (`tablebook.notifications`). Only a failed one is
retried (409 `notification-not-failed`), never a message about a booking that has already
started (409 `notification-too-late`). With an `Idempotency-Key`, a repeat answers the
first answer, so a double tap retries once.

Time-travel reads are computed from the event store up to the instant (`as_of`), with the
same rules as the live reads, so they answer "what would a guest asking at that moment
have been told?".
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, QueryParameter

from api.bookings.views import TablesAtOut, tables_out
from api.context import ApiDep, WriteContext, Written, bad_cursor
from api.refused import Refused
from api.requests import AUTH, check_date, check_instant, now
from api.schemas import CursorParam, LimitParam, parse_time
from api.venue_scope import StaffDep, venue_managers
from read_models.as_of import availability_as_of
from read_models.notifications import (
    MAX_LIMIT,
    InvalidCursor,
    NotFailed,
    NotificationChannel,
    NotificationPage,
    NotificationRow,
    NotificationStatus,
    RetryTooLate,
    Superseded,
    list_notifications,
    retry_notification,
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
                venue_id=staff.venue_id,
                status=status,
                booking_id=booking_id,
                channel=channel,
                limit=min(limit, MAX_LIMIT),
                cursor=cursor,
            )
        except InvalidCursor:
            raise bad_cursor() from None

    @post(
        "/notifications/{notification_id:str}/retry",
        status_code=200,
        summary="Send a failed notification again",
        description="The notification goes back to `pending`, due at once; the sender takes "
        "it within moments. `attempts` keeps counting. Only a `failed` one can be retried, "
        "and not once the booking it speaks of has started or has changed since.",
    )
    async def retry(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        notification_id: Annotated[str, FromPath],
    ) -> Response[NotificationRow]:
        async def run(ctx: WriteContext) -> Written[NotificationRow]:
            try:
                row = await retry_notification(
                    api.services.pool, ctx.venue_id, notification_id, now()
                )
            except NotFailed as refusal:
                raise Refused(409, _not_failed(refusal.row), "notification-not-failed") from None
            except RetryTooLate:
                raise Refused(
                    409,
                    "The booking this message is about has already started, so it would"
                    " arrive too late; it was not sent again.",
                    "notification-too-late",
                ) from None
            except Superseded:
                raise Refused(
                    409,
                    "The booking has changed or been cancelled since this message was"
                    " written, and the guest has the newer message; it was not sent again.",
                    "notification-superseded",
                ) from None
            if row is None:
                raise NotFoundException(detail="This venue has no such notification.")
            # The outbox is not a projection of the log: no token to wait for.
            return Written(row, None)

        return await api.write(request, staff.actor, run, venue_id=staff.venue_id)


_STATE_IN_WORDS = {
    "pending": "is waiting to be sent",
    "sending": "is being sent right now",
    "sent": "was sent",
    "skipped": "was skipped",
    "cancelled": "was cancelled",
}


def _not_failed(row: NotificationRow) -> str:
    """Why a retry was refused, in a host's words: the state, and its reason if any."""
    state = _STATE_IN_WORDS.get(row.status, f"is {row.status}")
    why = f" ({row.reason})" if row.reason else ""
    return f"This notification {state}{why}; only a failed one can be sent again."
