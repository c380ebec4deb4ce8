"""Admin routes for room layouts: where each table stands, the floor's areas, a canvas.

One layout at a time is active; the active one cannot be deleted (409). A layout places
only tables the venue has (422 otherwise), each at most once.

A layout's `version` is the venue stream's version at its last creation or change
(activation does not change it). `PUT` and `DELETE` accept `If-Match: <version>` and
answer 409 when the layout has moved on. The version travels in the command and is
checked by the decider against the venue as read, and the append is made at that read
version, so two editors saving at the same moment cannot both win.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, post, put
from litestar.params import FromPath, JSONBody

from api.context import (
    Api,
    ApiDep,
    WriteContext,
    Written,
)
from api.floor.fields import (
    AreaName,
    Coordinate,
    EntityId,
    Extent,
    Rotation,
    Shape,
    after_instant,
    instant_cursor,
)
from api.requests import AUTH, if_match, now
from api.schemas import CursorParam, LimitParam
from api.venue_scope import StaffDep, api_path, floor_plan
from booking_core.domain.commands import (
    ActivateLayout,
    ChangeLayout,
    CreateLayout,
    DeleteLayout,
)
from booking_core.domain.errors import LayoutNotFound
from booking_core.domain.values import Canvas, LayoutArea, LayoutTable
from booking_core.domain.venue import VenueState
from booking_core.handlers import change_venue
from booking_core.store import ConsistencyToken
from read_models.floor_history import venue_history
from read_models.venue import LayoutRow, layout, layouts_page

__all__ = ["AdminLayoutsController"]

LayoutName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class LayoutTableIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    table_id: EntityId
    x: Coordinate
    y: Coordinate
    width: Extent = 1.0
    height: Extent = 1.0
    rotation: Rotation = 0.0
    shape: Shape = "rectangle"


class LayoutAreaIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: AreaName
    x: Coordinate
    y: Coordinate
    width: Extent
    height: Extent
    color: Annotated[str, msgspec.Meta(max_length=32)] | None = None


class CanvasIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    width: Extent
    height: Extent
    background: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class LayoutIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The whole layout: `PUT` replaces every field."""

    name: LayoutName
    tables: Annotated[tuple[LayoutTableIn, ...], msgspec.Meta(max_length=500)] = ()
    areas: Annotated[tuple[LayoutAreaIn, ...], msgspec.Meta(max_length=100)] = ()
    canvas: CanvasIn | None = None


class LayoutOut(msgspec.Struct, frozen=True):
    id: str
    name: str
    tables: list[LayoutTable]
    areas: list[LayoutArea]
    canvas: Canvas | None
    active: bool
    version: int
    created_at: dt.datetime


class LayoutPage(msgspec.Struct, frozen=True):
    items: list[LayoutOut]
    next_cursor: str | None = None


def _tables(data: LayoutIn) -> tuple[LayoutTable, ...]:
    return tuple(LayoutTable(**msgspec.structs.asdict(t)) for t in data.tables)


def _areas(data: LayoutIn) -> tuple[LayoutArea, ...]:
    return tuple(LayoutArea(**msgspec.structs.asdict(a)) for a in data.areas)


def _canvas(data: LayoutIn) -> Canvas | None:
    return Canvas(**msgspec.structs.asdict(data.canvas)) if data.canvas else None


def _from_row(row: LayoutRow) -> LayoutOut:
    return LayoutOut(
        id=row.id,
        name=row.name,
        tables=list(row.tables),
        areas=list(row.areas),
        canvas=row.canvas,
        active=row.active,
        version=row.version,
        created_at=row.created_at,
    )


async def _current(
    api: Api,
    ctx: WriteContext,
    layout_id: str,
    token: ConsistencyToken | None,
    venue: VenueState,
    status: int = 200,
) -> Written[LayoutOut]:
    """The layout as the command left the venue (as last known, once deleted), with its
    version and creation time from the venue stream's past."""
    history = await venue_history(api.store, ctx.venue_id)
    facts = history.layouts.get(layout_id)
    if facts is None:
        raise LayoutNotFound(layout_id)
    found = venue.layouts.get(layout_id, facts.layout)
    out = LayoutOut(
        id=layout_id,
        name=found.name,
        tables=list(found.tables),
        areas=list(found.areas),
        canvas=found.canvas,
        active=venue.active_layout_id == layout_id,
        version=facts.version,
        created_at=facts.created_at,
    )
    headers = {"ETag": f'"{out.version}"'}
    if status == 201:
        headers["Location"] = api_path(ctx.venue_id, f"/admin/layouts/{layout_id}")
    return Written(out, token, status, headers)


class AdminLayoutsController(Controller):
    path = "/admin/layouts"
    tags = ["admin: floor"]
    security = AUTH
    guards = [floor_plan]

    @post("/", status_code=201, summary="Create a layout")
    async def create(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        data: JSONBody[LayoutIn],
    ) -> Response[LayoutOut]:
        async def run(ctx: WriteContext) -> Written[LayoutOut]:
            command = CreateLayout(
                command_id=ctx.command_id,
                actor=ctx.actor,
                venue_id=ctx.venue_id,
                now=now(),
                layout_id=ctx.new_id("lay"),
                name=data.name,
                tables=_tables(data),
                areas=_areas(data),
                canvas=_canvas(data),
            )
            result = await change_venue(api.store, command, idempotency=ctx.idempotency)
            return await _current(api, ctx, command.layout_id, result.token, result.venue, 201)

        return await api.write(request, staff.actor, run, venue_id=staff.venue_id)

    @get("/", summary="Every layout, in the order they were created")
    async def list_layouts(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        limit: LimitParam = 50,
        cursor: CursorParam = None,
    ) -> LayoutPage:
        await api.consistent(request, sql=("venue",))
        rows, last = await layouts_page(
            api.services.pool, staff.venue_id, limit=limit, after=after_instant(cursor)
        )
        return LayoutPage(
            items=[_from_row(row) for row in rows],
            next_cursor=instant_cursor(last),
        )

    @get("/{layout_id:str}", summary="One layout")
    async def read(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        layout_id: FromPath[str],
    ) -> Response[LayoutOut]:
        await api.consistent(request, sql=("venue",))
        row = await layout(api.services.pool, staff.venue_id, layout_id)
        if row is None:
            raise LayoutNotFound(layout_id)
        return Response(_from_row(row), headers={"ETag": f'"{row.version}"'})

    @put(
        "/{layout_id:str}",
        summary="Replace a layout",
        description="Send `If-Match: <version>` to refuse (409) a change to a layout"
        " someone else has changed since you read it.",
    )
    async def replace(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        layout_id: FromPath[str],
        data: JSONBody[LayoutIn],
    ) -> Response[LayoutOut]:
        expected = if_match(request)

        async def run(ctx: WriteContext) -> Written[LayoutOut]:
            command = ChangeLayout(
                command_id=ctx.command_id,
                actor=ctx.actor,
                venue_id=ctx.venue_id,
                now=now(),
                layout_id=layout_id,
                name=data.name,
                tables=_tables(data),
                areas=_areas(data),
                canvas=_canvas(data),
                expected_version=expected,
            )
            result = await change_venue(api.store, command, idempotency=ctx.idempotency)
            return await _current(api, ctx, layout_id, result.token, result.venue)

        return await api.write(request, staff.actor, run, venue_id=staff.venue_id)

    @delete(
        "/{layout_id:str}",
        status_code=200,
        summary="Delete a layout",
        description="409 for the active layout; accepts `If-Match` like `PUT`."
        " Answers with the layout as it was.",
    )
    async def delete_layout(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        layout_id: FromPath[str],
    ) -> Response[LayoutOut]:
        expected = if_match(request)

        async def run(ctx: WriteContext) -> Written[LayoutOut]:
            command = DeleteLayout(
                command_id=ctx.command_id,
                actor=ctx.actor,
                venue_id=ctx.venue_id,
                now=now(),
                layout_id=layout_id,
                expected_version=expected,
            )
            result = await change_venue(api.store, command, idempotency=ctx.idempotency)
            return await _current(api, ctx, layout_id, result.token, result.venue)

        return await api.write(request, staff.actor, run, venue_id=staff.venue_id)

    @post("/{layout_id:str}/activate", status_code=200, summary="Make a layout the active one")
    async def activate(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        layout_id: FromPath[str],
    ) -> Response[LayoutOut]:
        async def run(ctx: WriteContext) -> Written[LayoutOut]:
            command = ActivateLayout(
                command_id=ctx.command_id,
                actor=ctx.actor,
                venue_id=ctx.venue_id,
                now=now(),
                layout_id=layout_id,
            )
            result = await change_venue(api.store, command, idempotency=ctx.idempotency)
            return await _current(api, ctx, layout_id, result.token, result.venue)

        return await api.write(request, staff.actor, run, venue_id=staff.venue_id)
