"""`/api/v1/admin/bookings`: every guest's bookings, and the evening's workflow.

Staff list and search all bookings, read any one, book for a caller or a walk-in, and move
a booking along its life: seat the party (from an hour before its start until its end,
or outside that with an override's reason), complete the visit, or mark a no-show (only
once the booking has started). The steps are commands decided against the booking's
stream, so a step the booking's status does not allow is the domain's 409, and a rule it
breaks its 422 (`override-required` for staff who could set the rule aside with a reason).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import Body, FromPath, FromQuery, JSONBody, QueryParameter

from api.bookings.views import booking_page, tagged, visible_booking, written_booking
from api.context import Api, ApiDep, WriteContext, Written
from api.metrics import booking_outcome
from api.refused import Refused
from api.requests import AUTH, check_date, check_instant, now
from api.schemas import (
    BookingOut,
    BookingPage,
    BookingStatus,
    CursorParam,
    Email,
    FromDateParam,
    GuestName,
    LimitParam,
    LocalTime,
    OverrideIn,
    PartySize,
    Phone,
    TableRef,
    TableRefs,
    Text,
    ToDateParam,
    booking_from_state,
    named_tables,
    override_reason,
    parse_time,
)
from api.venue_scope import Staff, StaffDep, venue_staff
from booking_core.domain.booking import NoBooking
from booking_core.domain.commands import BookTable, CompleteBooking, MarkNoShow, SeatBooking
from booking_core.domain.errors import BookingNotFound, InvalidBooking
from booking_core.domain.values import BookingSource
from booking_core.handlers import (
    BookingResult,
    book_table,
    complete_booking,
    mark_no_show,
    seat_booking,
)
from read_models.as_of import booking_as_of
from read_models.bookings import BookingFilter

__all__ = ["AdminBookingsController", "SeatIn", "StaffBookingCreate"]


class StaffBookingCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A booking taken by staff: by phone, for a walk-in, or keyed in for a guest online.
    Staff are not held to the lead time or the booking window. With `seat_now` the
    booking starts this minute and is seated at once (`date` and `time` are then not
    read); without it both are required."""

    party_size: PartySize
    guest_name: GuestName
    date: dt.date | None = None
    time: LocalTime | None = None
    source: BookingSource | None = None
    """`phone` unless given (`walk_in` with `seat_now`)."""
    seat_now: bool = False
    override: OverrideIn | None = None
    guest_phone: Phone | None = None
    guest_email: Email | None = None
    special_requests: Text | None = None
    table_id: TableRef | None = None
    table_ids: TableRefs | None = None
    duration_minutes: Annotated[int, msgspec.Meta(ge=15, le=720)] | None = None


class SeatIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Seating outside the booking's window (from an hour before its start until its
    end) takes an override with a reason."""

    override: OverrideIn | None = None


class AdminBookingsController(Controller):
    path = "/admin/bookings"
    tags = ["admin: bookings"]
    security = AUTH
    guards = [venue_staff]

    @get("/", summary="All bookings, filtered and paginated")
    async def list_all(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        date: Annotated[
            dt.date | None, QueryParameter(description="Only this service date, YYYY-MM-DD")
        ] = None,
        from_date: FromDateParam = None,
        to_date: ToDateParam = None,
        status: FromQuery[BookingStatus | None] = None,
        table_id: Annotated[str | None, QueryParameter(min_length=1, max_length=200)] = None,
        q: Annotated[
            str | None,
            QueryParameter(
                min_length=1,
                max_length=200,
                description="Search guest name, phone or email (a phone by its digits, however"
                " it was written)",
            ),
        ] = None,
        limit: LimitParam = 50,
        cursor: CursorParam = None,
    ) -> BookingPage:
        for value, name in ((date, "date"), (from_date, "from"), (to_date, "to")):
            if value is not None:
                check_date(value, name)
        if from_date and to_date and from_date > to_date:
            raise Refused(422, "from: must not be after to", "invalid-period")
        await api.consistent(request, sql=("bookings",))
        where = BookingFilter(
            venue_id=staff.venue_id,
            service_date=date,
            from_date=from_date,
            to_date=to_date,
            status=status,
            table_id=table_id,
            q=q.strip() or None if q else None,
        )
        return await booking_page(api, where, limit, cursor)

    @get(
        "/{booking_id:str}",
        summary="Any guest's booking, now or as it stood at an instant",
        description="With `as_of` (an instant with its offset), the booking is folded from "
        "its events up to then: 404 if it did not exist yet.",
    )
    async def read(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        booking_id: FromPath[str],
        as_of: Annotated[
            dt.datetime | None,
            QueryParameter(description="Look back to this instant, e.g. 2026-12-24T19:00:00Z"),
        ] = None,
    ) -> Response[BookingOut]:
        if as_of is not None:  # the event store has every acknowledged write: nothing to wait for
            await api.consistent(request)  # but the header is held to its form all the same
            instant = await check_instant(api, as_of)
            return tagged(await booking_then(api, staff.venue_id, booking_id, instant))
        await api.consistent(request, sql=("bookings",))
        return tagged(await visible_booking(api, staff.actor, staff.venue_id, booking_id))

    @post(
        "/",
        status_code=201,
        summary="Book for a caller or a walk-in (staff)",
        opt=booking_outcome("book"),
        description="Staff are not held to the lead time or the booking window. Opening "
        "hours, closures, the slot grid and a named table's seats still hold unless "
        "`override.reason` is given (kept in the booking's history with who gave it); "
        "without one the refusal is `override-required`, naming the rule in `rule`. "
        "`seat_now: true` starts the booking this minute and seats it in the same write.",
    )
    async def create(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        data: JSONBody[StaffBookingCreate],
    ) -> Response[BookingOut]:
        day, at = _start_of(data)

        async def run(ctx: WriteContext) -> Written[BookingOut]:
            command = BookTable(
                command_id=ctx.command_id,
                actor=ctx.actor,
                venue_id=ctx.venue_id,
                now=now(),
                booking_id=ctx.new_id("bkg"),
                date=day,
                time=at,
                party_size=data.party_size,
                guest_name=data.guest_name.strip(),
                guest_phone=data.guest_phone,
                guest_email=data.guest_email,
                special_requests=data.special_requests,
                table_ids=named_tables(data.table_id, data.table_ids),
                duration_minutes=data.duration_minutes,
                source=data.source or ("walk_in" if data.seat_now else "phone"),
                seat_now=data.seat_now,
                override=override_reason(data.override),
            )
            result = await book_table(api.store, command, idempotency=ctx.idempotency)
            written = written_booking(result, ctx.venue_id, 201)
            location = f"{request.url.path.rstrip('/')}/{command.booking_id}"
            return Written(
                written.body, written.token, 201, {**written.headers, "Location": location}
            )

        return await api.write(request, staff.actor, run, venue_id=staff.venue_id)

    @post(
        "/{booking_id:str}/seat",
        status_code=200,
        summary="Seat the party of a confirmed booking",
        description="From an hour before the booking starts until it ends; outside that "
        "only with `override.reason` (422 `override-required` without one).",
    )
    async def seat(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        booking_id: FromPath[str],
        data: Annotated[SeatIn | None, Body(description="Optional: an override")] = None,
    ) -> Response[BookingOut]:
        reason = override_reason(data.override) if data is not None else None
        return await _step(api, staff, request, booking_id, SeatBooking, seat_booking, reason)

    @post(
        "/{booking_id:str}/complete",
        status_code=200,
        summary="Complete a seated booking: the party has left",
    )
    async def complete(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        booking_id: FromPath[str],
    ) -> Response[BookingOut]:
        return await _step(api, staff, request, booking_id, CompleteBooking, complete_booking)

    @post(
        "/{booking_id:str}/no-show",
        status_code=200,
        summary="Mark a confirmed booking a no-show (once it has started)",
    )
    async def no_show(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        booking_id: FromPath[str],
    ) -> Response[BookingOut]:
        return await _step(api, staff, request, booking_id, MarkNoShow, mark_no_show)


async def booking_then(api: Api, venue_id: str, booking_id: str, as_of: dt.datetime) -> BookingOut:
    then = await booking_as_of(api.store, venue_id, booking_id, as_of)
    if isinstance(then.state, NoBooking):
        raise BookingNotFound(booking_id)
    return booking_from_state(venue_id, then.state, then.version)


async def _step(
    api: Api,
    staff: Staff,
    request: Request[Any, Any, Any],
    booking_id: str,
    command_type: type[SeatBooking | CompleteBooking | MarkNoShow],
    handler: Callable[..., Awaitable[BookingResult]],
    override: str | None = None,
) -> Response[BookingOut]:
    """Decide one step of the booking's life with `handler`, under `Idempotency-Key`."""

    async def run(ctx: WriteContext) -> Written[BookingOut]:
        command = command_type(
            command_id=ctx.command_id,
            actor=ctx.actor,
            venue_id=ctx.venue_id,
            now=now(),
            booking_id=booking_id,
        )
        if isinstance(command, SeatBooking):
            command = msgspec.structs.replace(command, override=override)
        result = await handler(api.store, command, idempotency=ctx.idempotency)
        return written_booking(result, ctx.venue_id)

    return await api.write(request, staff.actor, run, venue_id=staff.venue_id)


def _start_of(data: StaffBookingCreate) -> tuple[dt.date, dt.time]:
    """The booking's local date and time; a walk-in's are this minute's, which the
    decision takes from its own clock, so any placeholder will do here."""
    if data.seat_now:
        today = dt.datetime.now(dt.UTC)
        return today.date(), dt.time(today.hour, today.minute)
    if data.date is None or data.time is None:
        missing = "date" if data.date is None else "time"
        raise InvalidBooking(missing, "give the date and time, or seat_now for a walk-in")
    return check_date(data.date), parse_time(data.time)
