"""`/api/v1/admin/waitlist`: the host stand's list of walk-in parties waiting for a table.

Staff (admins, the venue's managers and hosts) add a party with the quote the floor gives
it, list the day's line with places and quotes worked out again from the floor, tell a
party its table is ready (an SMS through the notifications outbox), seat it as a walk-in
booking (the booking and the entry leaving the list are one append), or remove it with a
reason. Each write is a command decided against the day's list stream.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from api.context import ApiDep, WriteContext, Written
from api.requests import AUTH, check_date, now
from api.schemas import booking_from_state, override_reason
from api.venue_scope import StaffDep, venue_staff
from api.waitlist.views import (
    QUOTE_MODELS,
    SeatedOut,
    WaitlistCreate,
    WaitlistEntryOut,
    WaitlistOut,
    WaitlistRemove,
    WaitlistSeat,
    checked_table_ids,
    entry_from_row,
    entry_from_state,
    quoted_line,
    service_date_now,
    token_for,
    token_hash,
)
from booking_core.domain import waitlist as waitlist_decider
from booking_core.domain.booking import NoBooking
from booking_core.domain.commands import (
    AddToWaitlist,
    NotifyWaitlistGuest,
    RemoveFromWaitlist,
    SeatFromWaitlist,
)
from booking_core.handlers import (
    WaitlistResult,
    add_to_waitlist,
    notify_waitlist_guest,
    remove_from_waitlist,
    seat_from_waitlist,
)
from read_models import waitlist as waitlist_model

__all__ = ["AdminWaitlistController"]

EntryId = Annotated[str, FromPath]


class AdminWaitlistController(Controller):
    path = "/admin/waitlist"
    tags = ["admin: waitlist"]
    security = AUTH
    guards = [venue_staff]

    @post("/", status_code=201, summary="Put a walk-in party on today's waitlist")
    async def add(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        data: JSONBody[WaitlistCreate],
    ) -> Response[WaitlistEntryOut]:
        at = now()
        day = await service_date_now(api, staff.venue_id, at)
        _, quote = await quoted_line(api, staff.venue_id, day, at, newcomer=data.party_size)

        async def run(ctx: WriteContext) -> Written[WaitlistEntryOut]:
            entry_id = waitlist_decider.entry_id_for(day, ctx.new_id("wl").removeprefix("wl_"))
            token = token_for(api, ctx.venue_id, entry_id)
            command = AddToWaitlist(
                command_id=ctx.command_id,
                actor=ctx.actor,
                venue_id=ctx.venue_id,
                now=at,
                entry_id=entry_id,
                service_date=day,
                party_size=data.party_size,
                guest_name=data.guest_name,
                guest_phone=data.guest_phone,
                notes=data.notes,
                quoted_wait_minutes=quote.wait_minutes if quote else None,
                token_hash=token_hash(token),
            )
            result = await add_to_waitlist(api.store, command, idempotency=ctx.idempotency)
            body = entry_from_state(ctx.venue_id, result.entry, result.position, token)
            location = f"{request.url.path.rstrip('/')}/{entry_id}"
            return Written(body, result.token, 201, {"Location": location})

        return await api.write(request, staff.actor, run, venue_id=staff.venue_id)

    @get("/", summary="The day's waitlist: places and quotes worked out from the floor now")
    async def line(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        date: Annotated[
            dt.date | None,
            QueryParameter(description="Service date, YYYY-MM-DD; the venue's today if absent"),
        ] = None,
        include_closed: Annotated[
            bool, QueryParameter(description="Also the parties seated or removed that day")
        ] = False,
    ) -> WaitlistOut:
        await api.consistent(request, sql=QUOTE_MODELS)
        at = now()
        day = check_date(date) if date else await service_date_now(api, staff.venue_id, at)
        waiting, _ = await quoted_line(api, staff.venue_id, day, at)
        entries = [entry_from_row(row, quote) for row, quote in waiting]
        if include_closed:
            closed = await waitlist_model.line(
                api.services.pool, staff.venue_id, day, statuses=("seated", "removed")
            )
            entries += [entry_from_row(row, None) for row in closed]
        return WaitlistOut(day, entries)

    @post("/{entry_id:str}/notify", status_code=200, summary="Tell the party its table is ready")
    async def notify(
        self, api: ApiDep, staff: StaffDep, request: Request[Any, Any, Any], entry_id: EntryId
    ) -> Response[WaitlistEntryOut]:
        async def run(ctx: WriteContext) -> Written[WaitlistEntryOut]:
            command = NotifyWaitlistGuest(
                command_id=ctx.command_id,
                actor=ctx.actor,
                venue_id=ctx.venue_id,
                now=now(),
                entry_id=entry_id,
            )
            result = await notify_waitlist_guest(api.store, command, idempotency=ctx.idempotency)
            return _written(ctx.venue_id, result)

        return await api.write(request, staff.actor, run, venue_id=staff.venue_id)

    @post(
        "/{entry_id:str}/seat",
        status_code=200,
        summary="Seat the party now as a walk-in booking; it leaves the list in the same write",
    )
    async def seat(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        entry_id: EntryId,
        data: JSONBody[WaitlistSeat | None] = None,
    ) -> Response[SeatedOut]:
        table_ids = checked_table_ids(data.table_ids) if data else ()
        override = override_reason(data.override) if data else None

        async def run(ctx: WriteContext) -> Written[SeatedOut]:
            command = SeatFromWaitlist(
                command_id=ctx.command_id,
                actor=ctx.actor,
                venue_id=ctx.venue_id,
                now=now(),
                entry_id=entry_id,
                booking_id=ctx.new_id("bkg"),
                table_ids=table_ids,
                override=override,
            )
            result = await seat_from_waitlist(api.store, command, idempotency=ctx.idempotency)
            entry = _written(ctx.venue_id, result)
            if isinstance(result.booking, NoBooking):
                raise AssertionError("a party seated from the list without its booking")
            booking = booking_from_state(ctx.venue_id, result.booking, result.booking_version)
            return Written(SeatedOut(entry.body, booking), result.token)

        return await api.write(request, staff.actor, run, venue_id=staff.venue_id)

    @post("/{entry_id:str}/remove", status_code=200, summary="Take the party off the list")
    async def remove(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        entry_id: EntryId,
        data: JSONBody[WaitlistRemove],
    ) -> Response[WaitlistEntryOut]:
        async def run(ctx: WriteContext) -> Written[WaitlistEntryOut]:
            command = RemoveFromWaitlist(
                command_id=ctx.command_id,
                actor=ctx.actor,
                venue_id=ctx.venue_id,
                now=now(),
                entry_id=entry_id,
                reason=data.reason,
            )
            result = await remove_from_waitlist(api.store, command, idempotency=ctx.idempotency)
            return _written(ctx.venue_id, result)

        return await api.write(request, staff.actor, run, venue_id=staff.venue_id)


def _written(venue_id: str, result: WaitlistResult) -> Written[WaitlistEntryOut]:
    return Written(entry_from_state(venue_id, result.entry, result.position), result.token)
