"""Guests' booking routes: place, read, change and cancel their own bookings.

Staff use them too, for any booking of their venue. A guest may not set `source` other
than `online`, nor `seat_now` or `override`: the domain refuses each with 403, as it
refuses a guest any staff work.

Writes are commands decided against the event store; the response is built from the
state the command produced, so it never waits for a projection. Reads come from the
bookings read model and honour `X-Consistency-Token`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from api.bookings.views import (
    HistoryEntryOut,
    booking_page,
    history_of,
    tagged,
    visible_booking,
    written_booking,
)
from api.context import (
    ApiDep,
    UserDep,
    WriteContext,
    Written,
)
from api.metrics import booking_outcome
from api.requests import AUTH, check_date, if_match, now
from api.schemas import (
    BookingOut,
    BookingPage,
    BookingStatus,
    CursorParam,
    Email,
    GuestName,
    LimitParam,
    LocalTime,
    OverrideIn,
    PartySize,
    Phone,
    TableRef,
    TableRefs,
    Text,
    named_tables,
    override_reason,
    parse_time,
)
from api.venue_scope import VenueDep, actor_in
from booking_core.domain.commands import UNSET, BookTable, CancelBooking, ChangeBooking
from booking_core.domain.values import BookingSource
from booking_core.handlers import book_table, cancel_booking, change_booking
from read_models.bookings import BookingFilter

__all__ = ["BookingCreate", "BookingUpdate", "BookingsController"]


class BookingCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    date: dt.date
    time: LocalTime
    party_size: PartySize
    guest_name: GuestName
    guest_phone: Phone | None = None
    guest_email: Email | None = None
    special_requests: Text | None = None
    table_id: TableRef | None = None
    table_ids: TableRefs | None = None
    duration_minutes: Annotated[int, msgspec.Meta(ge=15, le=720)] | None = msgspec.field(
        default=None
    )
    source: BookingSource | None = None
    """Staff only, other than `online` (a guest is refused with 403)."""
    seat_now: bool = False
    """Staff only (403 for a guest): book from this minute and seat the party at once;
    `/admin/bookings` is the host stand's route for it, where no date or time is needed."""
    override: OverrideIn | None = None
    """Staff only (403 for a guest): a reason to set a venue rule aside."""


class BookingUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    date: dt.date | msgspec.UnsetType = UNSET
    time: LocalTime | msgspec.UnsetType = UNSET
    party_size: PartySize | msgspec.UnsetType = UNSET
    table_id: TableRef | msgspec.UnsetType = UNSET
    table_ids: TableRefs | msgspec.UnsetType = UNSET
    guest_name: GuestName | msgspec.UnsetType = UNSET
    guest_phone: Phone | msgspec.UnsetType | None = UNSET
    guest_email: Email | msgspec.UnsetType | None = UNSET
    special_requests: Text | msgspec.UnsetType | None = UNSET
    duration_minutes: Annotated[int, msgspec.Meta(ge=15, le=720)] | msgspec.UnsetType = UNSET
    override: OverrideIn | msgspec.UnsetType = UNSET
    """Staff only (403 for a guest): a reason to set a venue rule aside for this change."""


class BookingsController(Controller):
    path = "/bookings"
    tags = ["bookings"]
    security = AUTH

    @post("/", status_code=201, summary="Book a table", opt=booking_outcome("book"))
    async def create(
        self,
        api: ApiDep,
        user: UserDep,
        venue: VenueDep,
        request: Request[Any, Any, Any],
        data: JSONBody[BookingCreate],
    ) -> Response[BookingOut]:
        at = parse_time(data.time)
        check_date(data.date)

        async def run(ctx: WriteContext) -> Written[BookingOut]:
            command = BookTable(
                command_id=ctx.command_id,
                actor=ctx.actor,
                venue_id=ctx.venue_id,
                now=now(),
                booking_id=ctx.new_id("bkg"),
                date=data.date,
                time=at,
                party_size=data.party_size,
                guest_name=data.guest_name.strip(),
                guest_phone=data.guest_phone,
                guest_email=data.guest_email,
                special_requests=data.special_requests,
                table_ids=named_tables(data.table_id, data.table_ids),
                duration_minutes=data.duration_minutes,
                source=data.source or "online",
                seat_now=data.seat_now,
                override=override_reason(data.override),
            )
            result = await book_table(api.store, command, idempotency=ctx.idempotency)
            written = written_booking(result, venue.id, 201)
            location = f"{request.url.path.rstrip('/')}/{command.booking_id}"
            return Written(
                written.body, written.token, 201, {**written.headers, "Location": location}
            )

        return await api.write(request, await actor_in(api, user, venue.id), run, venue_id=venue.id)

    @get("/my-bookings", summary="The signed-in user's bookings")
    async def mine(
        self,
        api: ApiDep,
        user: UserDep,
        venue: VenueDep,
        request: Request[Any, Any, Any],
        status: FromQuery[BookingStatus | None] = None,
        from_date: Annotated[dt.date | None, QueryParameter(name="from")] = None,
        to_date: Annotated[dt.date | None, QueryParameter(name="to")] = None,
        limit: LimitParam = 50,
        cursor: CursorParam = None,
    ) -> BookingPage:
        await api.consistent(request, sql=("bookings",))
        where = BookingFilter(
            venue_id=venue.id,
            user_id=user.id,
            status=status,
            from_date=from_date,
            to_date=to_date,
        )
        return await booking_page(api, where, limit, cursor)

    @get(
        "/{booking_id:str}",
        summary="One booking (its guest or an admin)",
        description="`ETag` is the booking's version: send it back as `If-Match` on a "
        "change so that it only applies to the booking as read.",
    )
    async def read(
        self,
        api: ApiDep,
        user: UserDep,
        venue: VenueDep,
        request: Request[Any, Any, Any],
        booking_id: FromPath[str],
    ) -> Response[BookingOut]:
        await api.consistent(request, sql=("bookings",))
        actor = await actor_in(api, user, venue.id)
        return tagged(await visible_booking(api, actor, venue.id, booking_id))

    @get(
        "/{booking_id:str}/history",
        summary="Every event of a booking: what changed, when, and by whom",
        description="Read from the event store, so it is complete the moment a write "
        "returns. `by` is the id of the user whose request caused the event.",
    )
    async def history(
        self, api: ApiDep, user: UserDep, venue: VenueDep, booking_id: FromPath[str]
    ) -> list[HistoryEntryOut]:
        return await history_of(api, await actor_in(api, user, venue.id), venue.id, booking_id)

    @put(
        "/{booking_id:str}",
        summary="Change a booking; re-decided like a new one",
        opt=booking_outcome("change"),
    )
    async def change(
        self,
        api: ApiDep,
        user: UserDep,
        venue: VenueDep,
        request: Request[Any, Any, Any],
        booking_id: FromPath[str],
        data: JSONBody[BookingUpdate],
    ) -> Response[BookingOut]:
        expected = if_match(request, "the booking's version")
        at = parse_time(data.time) if isinstance(data.time, str) else UNSET
        if isinstance(data.date, dt.date):
            check_date(data.date)

        async def run(ctx: WriteContext) -> Written[BookingOut]:
            command = ChangeBooking(
                command_id=ctx.command_id,
                actor=ctx.actor,
                venue_id=ctx.venue_id,
                now=now(),
                booking_id=booking_id,
                date=data.date,
                time=at,
                party_size=data.party_size,
                table_ids=named_tables(data.table_id, data.table_ids) or UNSET,
                duration_minutes=data.duration_minutes,
                guest_name=data.guest_name,
                guest_phone=data.guest_phone,
                guest_email=data.guest_email,
                special_requests=data.special_requests,
                expected_version=expected,
                override=override_reason(data.override)
                if isinstance(data.override, OverrideIn)
                else None,
            )
            result = await change_booking(api.store, command, idempotency=ctx.idempotency)
            return written_booking(result, venue.id)

        return await api.write(request, await actor_in(api, user, venue.id), run, venue_id=venue.id)

    @delete(
        "/{booking_id:str}",
        status_code=200,
        summary="Cancel a booking",
        opt=booking_outcome("cancel"),
        description="The booking stays readable, with status `cancelled`; cancelling it again"
        " answers the same.",
    )
    async def cancel(
        self,
        api: ApiDep,
        user: UserDep,
        venue: VenueDep,
        request: Request[Any, Any, Any],
        booking_id: FromPath[str],
    ) -> Response[BookingOut]:
        async def run(ctx: WriteContext) -> Written[BookingOut]:
            command = CancelBooking(
                command_id=ctx.command_id,
                actor=ctx.actor,
                venue_id=ctx.venue_id,
                now=now(),
                booking_id=booking_id,
            )
            result = await cancel_booking(api.store, command, idempotency=ctx.idempotency)
            return written_booking(result, venue.id)

        return await api.write(request, await actor_in(api, user, venue.id), run, venue_id=venue.id)
