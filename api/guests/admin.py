"""`/api/v1/admin/guests`: who the venue's guests are, for its staff.

A guest profile is a person as the venue knows them (`gst_…`, the `person` its bookings
name): an account booking for itself, or, for phone and walk-in bookings, a normalised
email or phone number. The whole staff (hosts too: allergies matter at the host stand)
search and read profiles; admins and managers tag them, write notes and merge two
profiles of one guest. Another venue's guest is not found (404), and so is an id no
booking of this venue names.

Reads come from the `guests` projection (`X-Consistency-Token` waits for a write). A
merged profile's id reads as the profile it was merged into; writing to it is a 409
`guest-profile-merged`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from api.context import (
    Api,
    ApiDep,
    WriteContext,
    Written,
    bad_cursor,
    cursor_decode,
    cursor_encode,
)
from api.guests.views import (
    GUEST_MODELS,
    GuestMerge,
    GuestOut,
    GuestPage,
    GuestPatch,
    guest_out,
    summary_out,
)
from api.requests import AUTH, if_match, now
from api.schemas import CursorParam
from api.venue_scope import StaffDep, guest_book
from booking_core.domain.commands import MergeGuests, NoteGuest
from booking_core.domain.errors import GuestNotFound
from booking_core.handlers import GuestResult, merge_guests, note_guest
from booking_core.store import ConsistencyToken
from read_models import guests as guests_model
from read_models.consistency import NotCaughtUp, wait_for_projections

__all__ = ["AdminGuestsController"]

GuestId = Annotated[str, FromPath]
_MERGE_WAIT_SECONDS = 2.0
"""How long a merge's answer waits for the profile to count the merged bookings."""


async def _found(api: Api, venue_id: str, guest_id: str) -> str:
    """The profile `guest_id` reads as at the venue; 404 when the venue has none."""
    root = await guests_model.resolve(api.services.pool, venue_id, guest_id)
    if root is None:
        raise GuestNotFound(guest_id)
    return root


async def _profile(api: Api, venue_id: str, root: str) -> GuestOut:
    found = await guests_model.profiles(api.services.pool, venue_id, [root])
    if root not in found:
        raise GuestNotFound(root)
    bookings = await guests_model.bookings_of(api.services.pool, venue_id, root)
    return guest_out(found[root], bookings)


async def _answer(
    api: Api, venue_id: str, root: str, result: GuestResult, merged: str | None = None
) -> Written[GuestOut]:
    """The profile after the write: the command's tags, notes and version over what the
    read model holds (its counts follow the write once projected)."""
    out = await _profile(api, venue_id, root)
    merges = sorted({*out.merged, merged}) if merged else out.merged
    body = msgspec.structs.replace(
        out,
        tags=list(result.profile.tags),
        notes=result.profile.notes,
        version=result.version,
        merged=merges,
    )
    return Written(body, result.token, 200, {"ETag": f'"{result.version}"'})


class AdminGuestsController(Controller):
    path = "/admin/guests"
    tags = ["admin: guests"]
    security = AUTH
    guards = [guest_book]

    @get("/", summary="Search the venue's guest profiles by name, phone or email")
    async def search(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        q: Annotated[
            str,
            QueryParameter(
                max_length=200,
                description="Any part of a name or an email (any case), or 3 or more digits"
                " of a phone number; blank lists every guest. The most recently seen first.",
            ),
        ] = "",
        limit: Annotated[int, QueryParameter(ge=1, le=100, description="Items per page")] = 20,
        cursor: CursorParam = None,
        booking_id: Annotated[
            str | None,
            QueryParameter(
                max_length=200,
                description="Only the profile this booking counts towards (none for a"
                " booking that names no guest); `q` is then not used.",
            ),
        ] = None,
    ) -> GuestPage:
        await api.consistent(request, sql=GUEST_MODELS)
        if booking_id is not None:
            root = await guests_model.of_booking(api.services.pool, staff.venue_id, booking_id)
            found = await guests_model.profiles(
                api.services.pool, staff.venue_id, [root] if root else []
            )
            return GuestPage(items=[summary_out(p) for p in found.values()])
        after = None
        if cursor:
            seen, root = cursor_decode(cursor, 2)
            after = (_instant(str(seen)), str(root))
        items, last = await guests_model.search(
            api.services.pool, staff.venue_id, q, limit=limit, after=after
        )
        return GuestPage(
            items=[summary_out(p) for p in items],
            next_cursor=cursor_encode(last[0].isoformat(), last[1]) if last else None,
        )

    @get("/{guest_id:str}", summary="One guest's profile, with their newest bookings")
    async def read(
        self, api: ApiDep, staff: StaffDep, request: Request[Any, Any, Any], guest_id: GuestId
    ) -> Response[GuestOut]:
        await api.consistent(request, sql=GUEST_MODELS)
        root = await _found(api, staff.venue_id, guest_id)
        out = await _profile(api, staff.venue_id, root)
        return Response(out, headers={"ETag": f'"{out.version}"'})

    @patch("/{guest_id:str}", summary="Set a guest's tags and/or notes")
    async def note(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        guest_id: GuestId,
        data: JSONBody[GuestPatch],
    ) -> Response[GuestOut]:
        expected = if_match(request, "the profile's version")
        root = await _found(api, staff.venue_id, guest_id)

        async def run(ctx: WriteContext) -> Written[GuestOut]:
            command = NoteGuest(
                command_id=ctx.command_id,
                actor=ctx.actor,
                venue_id=ctx.venue_id,
                now=now(),
                person=guest_id,
                tags=tuple(data.tags) if isinstance(data.tags, list) else data.tags,
                notes=data.notes,
                expected_version=expected,
            )
            result = await note_guest(api.store, command, idempotency=ctx.idempotency)
            return await _answer(api, ctx.venue_id, root, result)

        return await api.write(request, staff.actor, run, venue_id=staff.venue_id)

    @post(
        "/{guest_id:str}/merge",
        status_code=200,
        summary="Merge another profile of the same guest into this one",
        description="The other profile's bookings count towards this one from now on, its"
        " tags join these and its notes follow these; its id reads as this profile.",
    )
    async def merge(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        guest_id: GuestId,
        data: JSONBody[GuestMerge],
    ) -> Response[GuestOut]:
        await _found(api, staff.venue_id, guest_id)
        await _found(api, staff.venue_id, data.guest_id)

        async def run(ctx: WriteContext) -> Written[GuestOut]:
            command = MergeGuests(
                command_id=ctx.command_id,
                actor=ctx.actor,
                venue_id=ctx.venue_id,
                now=now(),
                person=guest_id,
                merged=data.guest_id,
            )
            result = await merge_guests(api.store, command, idempotency=ctx.idempotency)
            await _caught_up(api, result.token)
            return await _answer(api, ctx.venue_id, guest_id, result, merged=data.guest_id)

        return await api.write(request, staff.actor, run, venue_id=staff.venue_id)


async def _caught_up(api: Api, token: ConsistencyToken | None) -> None:
    """Give the projection a moment to count the merged bookings in the answer; a slow
    one only leaves the counts behind (a GET with the write's token has them)."""
    if token is None:
        return
    try:
        await wait_for_projections(
            token,
            pool=api.services.pool,
            redis=api.services.redis,
            redis_prefix=api.services.redis_prefix,
            sql=GUEST_MODELS,
            timeout=_MERGE_WAIT_SECONDS,
        )
    except NotCaughtUp:
        return


def _instant(text: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise bad_cursor() from None
