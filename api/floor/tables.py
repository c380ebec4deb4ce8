"""Admin routes for the venue's tables.

A table is created, changed in any field, and retired (`DELETE`): retiring is refused
with 409 while the table has bookings still to come, unless `?cancel_bookings=true`
cancels them in the same write; a seated party is never cancelled. Retiring a retired
table answers with it again. A table's blocks have routes of their own (`blocks`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from api.context import (
    Api,
    ApiDep,
    WriteContext,
    Written,
    cursor_decode,
    cursor_encode,
)
from api.floor.fields import (
    AreaName,
    Coordinate,
    Extent,
    Rotation,
    Shape,
    listed_table,
)
from api.requests import AUTH, now
from api.schemas import CursorParam, LimitParam
from api.venue_scope import StaffDep, api_path, floor_plan
from booking_core.domain.commands import (
    UNSET,
    AddTable,
    ChangeTable,
    RetireTable,
    UnsetType,
)
from booking_core.domain.errors import TableIsRetired, TableNotFound
from booking_core.domain.table import ActiveTable, RetiredTable, TableState
from booking_core.handlers import add_table, change_table, retire_table
from booking_core.store import ConsistencyToken
from read_models.floor_history import TableHistory, table_history
from read_models.venue import TableRow, tables_page

__all__ = ["AdminTablesController"]

TableName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Capacity = Annotated[int, msgspec.Meta(ge=1, le=100, description="Seats (1-100)")]


class TableCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: TableName
    capacity: Capacity
    min_capacity: Capacity = 1
    area: AreaName | None = None
    x: Coordinate = 0.0
    y: Coordinate = 0.0
    width: Extent = 1.0
    height: Extent = 1.0
    rotation: Rotation = 0.0
    shape: Shape = "rectangle"


class TableUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Any of the fields; `area: null` takes the table out of its area."""

    name: TableName | UnsetType = UNSET
    capacity: Capacity | UnsetType = UNSET
    min_capacity: Capacity | UnsetType = UNSET
    area: AreaName | UnsetType | None = UNSET
    x: Coordinate | UnsetType = UNSET
    y: Coordinate | UnsetType = UNSET
    width: Extent | UnsetType = UNSET
    height: Extent | UnsetType = UNSET
    rotation: Rotation | UnsetType = UNSET
    shape: Shape | UnsetType = UNSET


class TableOut(msgspec.Struct, frozen=True):
    id: str
    name: str
    capacity: int
    min_capacity: int
    area: str | None
    x: float
    y: float
    width: float
    height: float
    rotation: float
    shape: str
    retired: bool
    version: int
    created_at: dt.datetime


class TablePage(msgspec.Struct, frozen=True):
    items: list[TableOut]
    next_cursor: str | None = None


def _table_from_row(row: TableRow) -> TableOut:
    return TableOut(**dataclasses.asdict(row))


def _table_out(table_id: str, state: TableState, history: TableHistory) -> TableOut:
    """The table as `state` has it, with the facts only its stream's past holds."""
    if not isinstance(state, ActiveTable | RetiredTable) or history.created_at is None:
        raise TableNotFound(table_id)
    return TableOut(
        id=table_id,
        **dataclasses.asdict(state.spec),
        retired=isinstance(state, RetiredTable),
        version=history.version,
        created_at=history.created_at,
    )


async def _current(
    api: Api,
    venue_id: str,
    table_id: str,
    token: ConsistencyToken | None,
    status: int = 200,
    state: TableState | None = None,
) -> Written[TableOut]:
    """The table as the command left it (`state`; as the stream has it when the command
    wrote nothing), answered with its version as `ETag`."""
    history = await table_history(api.store, venue_id, table_id)
    out = _table_out(table_id, history.state if state is None else state, history)
    headers = {"ETag": f'"{out.version}"'}
    if status == 201:
        headers["Location"] = api_path(venue_id, f"/admin/tables/{table_id}")
    return Written(out, token, status, headers)


class AdminTablesController(Controller):
    path = "/admin/tables"
    tags = ["admin: floor"]
    security = AUTH
    guards = [floor_plan]

    @post("/", status_code=201, summary="Add a table")
    async def create(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        data: JSONBody[TableCreate],
    ) -> Response[TableOut]:
        async def run(ctx: WriteContext) -> Written[TableOut]:
            command = AddTable(
                command_id=ctx.command_id,
                actor=ctx.actor,
                venue_id=ctx.venue_id,
                now=now(),
                table_id=ctx.new_id("tbl"),
                **msgspec.structs.asdict(data),
            )
            result = await add_table(api.store, command, idempotency=ctx.idempotency)
            return await _current(
                api, ctx.venue_id, command.table_id, result.token, 201, state=result.table
            )

        return await api.write(request, staff.actor, run, venue_id=staff.venue_id)

    @get("/", summary="The venue's tables, by name")
    async def list_tables(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        area: Annotated[str | None, QueryParameter(max_length=100)] = None,
        include_retired: Annotated[
            bool, QueryParameter(description="Also list retired tables")
        ] = False,
        limit: LimitParam = 50,
        cursor: CursorParam = None,
    ) -> TablePage:
        await api.consistent(request, sql=("venue",))
        after = None
        if cursor:
            name, table_id = cursor_decode(cursor, 2)
            after = (str(name), str(table_id))
        rows, last = await tables_page(
            api.services.pool,
            staff.venue_id,
            area=area,
            include_retired=include_retired,
            limit=limit,
            after=after,
        )
        return TablePage(
            items=[_table_from_row(row) for row in rows],
            next_cursor=cursor_encode(*last) if last else None,
        )

    @get("/{table_id:str}", summary="One table, retired or not")
    async def read(
        self, api: ApiDep, staff: StaffDep, request: Request[Any, Any, Any], table_id: FromPath[str]
    ) -> Response[TableOut]:
        await api.consistent(request, sql=("venue",))
        out = _table_from_row(await listed_table(api, staff.venue_id, table_id))
        return Response(out, headers={"ETag": f'"{out.version}"'})

    @put("/{table_id:str}", summary="Change any of a table's fields")
    async def change(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        table_id: FromPath[str],
        data: JSONBody[TableUpdate],
    ) -> Response[TableOut]:
        async def run(ctx: WriteContext) -> Written[TableOut]:
            command = ChangeTable(
                command_id=ctx.command_id,
                actor=ctx.actor,
                venue_id=ctx.venue_id,
                now=now(),
                table_id=table_id,
                **msgspec.structs.asdict(data),
            )
            result = await change_table(api.store, command, idempotency=ctx.idempotency)
            return await _current(api, ctx.venue_id, table_id, result.token, state=result.table)

        return await api.write(request, staff.actor, run, venue_id=staff.venue_id)

    @delete(
        "/{table_id:str}",
        status_code=200,
        summary="Retire a table",
        description="409 while the table has bookings still to come, unless"
        " `cancel_bookings=true` cancels them (a seated party is never cancelled)."
        " Retiring a retired table answers with it again.",
    )
    async def retire(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        table_id: FromPath[str],
        cancel_bookings: Annotated[
            bool, QueryParameter(description="Cancel the table's bookings to come")
        ] = False,
    ) -> Response[TableOut]:
        async def run(ctx: WriteContext) -> Written[TableOut]:
            command = RetireTable(
                command_id=ctx.command_id,
                actor=ctx.actor,
                venue_id=ctx.venue_id,
                now=now(),
                table_id=table_id,
                cancel_bookings=cancel_bookings,
            )
            try:
                result = await retire_table(api.store, command, idempotency=ctx.idempotency)
            except TableIsRetired:
                return await _current(api, ctx.venue_id, table_id, None)
            return await _current(api, ctx.venue_id, table_id, result.token, state=result.table)

        return await api.write(request, staff.actor, run, venue_id=staff.venue_id)
