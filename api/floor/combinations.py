"""Admin routes for table combinations: tables a venue joins for larger parties.

A combination names two or more of the venue's tables and its own seats (`min_capacity`
to `capacity`). Auto-assign offers it after every single table that fits; a booking of it
holds each of its tables. Managers and admins define and remove them, hosts read them.

Refusals: one table, a table named twice, an unknown or retired table, a capacity below
the minimum (422); the same tables combined twice (409). Retiring a table removes the
combinations it belongs to. A combination is not changed in place: remove it and define
it again (bookings already made keep their tables).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.params import FromPath, JSONBody

from api.context import ApiDep, WriteContext, Written
from api.floor.fields import after_instant, instant_cursor
from api.requests import AUTH, now
from api.schemas import CursorParam, LimitParam
from api.venue_scope import StaffDep, api_path, floor_plan
from booking_core.domain.combinations import MAX_NAME, MAX_TABLES, TableCombination
from booking_core.domain.commands import DefineTableCombination, RemoveTableCombination
from booking_core.domain.errors import CombinationNotFound
from booking_core.handlers import change_venue, load_venue
from read_models import combinations_layout
from read_models.combinations import CombinationRow, combination, combinations_page

__all__ = ["AdminCombinationsController"]

Seats = Annotated[int, msgspec.Meta(description="Party sizes the joined tables take (1 to 1000)")]


class CombinationIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    table_ids: Annotated[
        list[str],
        msgspec.Meta(
            max_length=MAX_TABLES,
            description="The tables joined: at least two, each once, none retired",
        ),
    ]
    min_capacity: Seats
    capacity: Seats
    name: Annotated[str, msgspec.Meta(max_length=MAX_NAME)] | None = None


class CombinationOut(msgspec.Struct, frozen=True):
    id: str
    table_ids: list[str]
    min_capacity: int
    capacity: int
    name: str | None
    created_at: dt.datetime


class CombinationPage(msgspec.Struct, frozen=True):
    items: list[CombinationOut]
    next_cursor: str | None = None


def _out(found: TableCombination, created_at: dt.datetime) -> CombinationOut:
    """The combination as the venue stream holds it (`created_at` for one defined before
    the time was kept)."""
    return CombinationOut(
        id=found.combination_id,
        table_ids=list(found.table_ids),
        min_capacity=found.min_capacity,
        capacity=found.capacity,
        name=found.name,
        created_at=found.defined_at or created_at,
    )


def _from_row(row: CombinationRow) -> CombinationOut:
    return CombinationOut(
        id=row.id,
        table_ids=list(row.table_ids),
        min_capacity=row.min_capacity,
        capacity=row.capacity,
        name=row.name,
        created_at=row.created_at,
    )


class AdminCombinationsController(Controller):
    path = "/admin/table-combinations"
    tags = ["admin: floor"]
    security = AUTH
    guards = [floor_plan]

    @post("/", status_code=201, summary="Combine tables for larger parties")
    async def define(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        data: JSONBody[CombinationIn],
    ) -> Response[CombinationOut]:
        async def run(ctx: WriteContext) -> Written[CombinationOut]:
            command = DefineTableCombination(
                command_id=ctx.command_id,
                actor=ctx.actor,
                venue_id=ctx.venue_id,
                now=now(),
                combination_id=ctx.new_id("cmb"),
                table_ids=tuple(data.table_ids),
                min_capacity=data.min_capacity,
                capacity=data.capacity,
                name=data.name,
            )
            result = await change_venue(api.store, command, idempotency=ctx.idempotency)
            defined = result.venue.combinations[command.combination_id]
            location = api_path(ctx.venue_id, f"/admin/table-combinations/{defined.combination_id}")
            return Written(_out(defined, command.now), result.token, 201, {"Location": location})

        return await api.write(request, staff.actor, run, venue_id=staff.venue_id)

    @get("/", summary="The venue's table combinations, in the order they were defined")
    async def list_combinations(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        limit: LimitParam = 50,
        cursor: CursorParam = None,
    ) -> CombinationPage:
        await api.consistent(request, sql=(combinations_layout.NAME,))
        rows, last = await combinations_page(
            api.services.pool, staff.venue_id, limit=limit, after=after_instant(cursor)
        )
        return CombinationPage(
            items=[_from_row(row) for row in rows], next_cursor=instant_cursor(last)
        )

    @get("/{combination_id:str}", summary="One table combination")
    async def read(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        combination_id: FromPath[str],
    ) -> CombinationOut:
        await api.consistent(request, sql=(combinations_layout.NAME,))
        row = await combination(api.services.pool, staff.venue_id, combination_id)
        if row is None:
            raise CombinationNotFound(combination_id)
        return _from_row(row)

    @delete(
        "/{combination_id:str}",
        status_code=200,
        summary="Remove a table combination",
        description="Auto-assign no longer offers it; bookings already made keep their"
        " tables. Answers with the combination as it was.",
    )
    async def remove(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        combination_id: FromPath[str],
    ) -> Response[CombinationOut]:
        async def run(ctx: WriteContext) -> Written[CombinationOut]:
            before, _ = await load_venue(api.store, ctx.venue_id)
            found = before.combinations.get(combination_id)
            command = RemoveTableCombination(
                command_id=ctx.command_id,
                actor=ctx.actor,
                venue_id=ctx.venue_id,
                now=now(),
                combination_id=combination_id,
            )
            result = await change_venue(api.store, command, idempotency=ctx.idempotency)
            if found is None:  # removed meanwhile: the command said so, or it was this one
                raise CombinationNotFound(combination_id)
            return Written(_out(found, command.now), result.token)

        return await api.write(request, staff.actor, run, venue_id=staff.venue_id)
