"""Admin routes for the venue's tables and their blocks.

A table is created, changed in any field, and retired (`DELETE`): retiring is refused
with 409 while the table has bookings still to come, unless `?cancel_bookings=true`
cancels them in the same write; a seated party is never cancelled. Retiring a retired
table answers with it again. A block takes a table out of service from `start` to `end`
(instants with `Z` or an offset, or venue wall-clock `YYYY-MM-DDTHH:MM`); it is refused
with 409 while a booking holds the table in that period.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from api.context import (
    AdminDep,
    Api,
    ApiDep,
    WriteContext,
    Written,
    actor_of,
    cursor_decode,
    cursor_encode,
)
from api.floor.fields import (
    AreaName,
    Coordinate,
    Extent,
    Rotation,
    Shape,
    after_instant,
    instant_cursor,
)
from api.guards import admin_only
from api.refused import Refused
from api.requests import AUTH, now
from api.schemas import CursorParam, LimitParam
from booking_core.domain.commands import (
    UNSET,
    AddTable,
    BlockTable,
    ChangeTable,
    LiftBlock,
    RetireTable,
    UnsetType,
)
from booking_core.domain.errors import BlockNotFound, TableIsRetired, TableNotFound
from booking_core.domain.events import BlockPlaced
from booking_core.domain.table import ActiveTable, RetiredTable, TableState
from booking_core.handlers import add_table, block_table, change_table, lift_block, retire_table
from booking_core.store import ConsistencyToken
from read_models.floor_history import TableHistory, table_history
from read_models.venue import BlockRow, TableRow, block, blocks_page, table, tables_page

__all__ = ["AdminTablesController"]

TableName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Capacity = Annotated[int, msgspec.Meta(ge=1, le=100, description="Seats (1-100)")]
Moment = Annotated[
    str,
    msgspec.Meta(
        max_length=40,
        pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
        r"(Z|[+-][0-9]{2}:[0-9]{2})?$",
        description="An instant (`2030-05-01T18:00:00Z`, `...+02:00`), or the venue's"
        " wall clock without an offset (`2030-05-01T18:00`)",
        examples=["2030-05-01T18:00"],
    ),
]
_MIN_YEAR, _MAX_YEAR = 2000, 2199


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


class BlockCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    start: Moment
    end: Moment
    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""


class BlockOut(msgspec.Struct, frozen=True):
    id: str
    table_id: str
    start: dt.datetime
    end: dt.datetime
    reason: str


class BlockPage(msgspec.Struct, frozen=True):
    items: list[BlockOut]
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


def _block_out(
    block_id: str, table_id: str, start: dt.datetime, end: dt.datetime, reason: str
) -> BlockOut:
    return BlockOut(
        id=block_id,
        table_id=table_id,
        start=start.astimezone(dt.UTC),
        end=end.astimezone(dt.UTC),
        reason=reason,
    )


def _placed_out(event: BlockPlaced) -> BlockOut:
    return _block_out(event.block_id, event.table_id, event.starts_at, event.ends_at, event.reason)


def _placed_block(table_id: str, state: TableState, block_id: str) -> BlockOut:
    """The block as the command that placed it left the table."""
    if not isinstance(state, ActiveTable) or block_id not in state.blocks:
        raise BlockNotFound(table_id, block_id)
    period = state.blocks[block_id]
    return _block_out(block_id, table_id, period.starts_at, period.ends_at, period.reason)


def _row_out(row: BlockRow) -> BlockOut:
    return _block_out(row.id, row.table_id, row.starts_at, row.ends_at, row.reason)


def _moment(value: str, field: str) -> dt.datetime:
    """An aware instant, or a naive venue wall-clock time for the domain to place."""
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        # It matched the documented pattern, so it is well-formed but no real moment.
        raise Refused(422, f"{field}: not a date and time", "invalid-instant") from None
    if not _MIN_YEAR <= parsed.year <= _MAX_YEAR:
        raise Refused(422, f"{field}: must be between 2000 and 2199", "date-out-of-range")
    return parsed


async def _current(
    api: Api,
    table_id: str,
    token: ConsistencyToken | None,
    status: int = 200,
    state: TableState | None = None,
) -> Written[TableOut]:
    """The table as the command left it (`state`; as the stream has it when the command
    wrote nothing), answered with its version as `ETag`."""
    history = await table_history(api.store, table_id)
    out = _table_out(table_id, history.state if state is None else state, history)
    headers = {"ETag": f'"{out.version}"'}
    if status == 201:
        headers["Location"] = f"/api/v1/admin/tables/{table_id}"
    return Written(out, token, status, headers)


async def _listed(api: Api, table_id: str) -> TableRow:
    row = await table(api.services.pool, table_id)
    if row is None:
        raise TableNotFound(table_id)
    return row


class AdminTablesController(Controller):
    path = "/api/v1/admin/tables"
    tags = ["admin: floor"]
    security = AUTH
    guards = [admin_only]

    @post("/", status_code=201, summary="Add a table")
    async def create(
        self,
        api: ApiDep,
        admin: AdminDep,
        request: Request[Any, Any, Any],
        data: JSONBody[TableCreate],
    ) -> Response[TableOut]:
        async def run(ctx: WriteContext) -> Written[TableOut]:
            command = AddTable(
                command_id=ctx.command_id,
                actor=ctx.actor,
                now=now(),
                table_id=ctx.new_id("tbl"),
                **msgspec.structs.asdict(data),
            )
            result = await add_table(api.store, command, idempotency=ctx.idempotency)
            return await _current(api, command.table_id, result.token, 201, state=result.table)

        return await api.write(request, actor_of(admin), run)

    @get("/", summary="The venue's tables, by name")
    async def list_tables(
        self,
        api: ApiDep,
        admin: AdminDep,
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
            api.services.pool, area=area, include_retired=include_retired, limit=limit, after=after
        )
        return TablePage(
            items=[_table_from_row(row) for row in rows],
            next_cursor=cursor_encode(*last) if last else None,
        )

    @get("/{table_id:str}", summary="One table, retired or not")
    async def read(
        self, api: ApiDep, admin: AdminDep, request: Request[Any, Any, Any], table_id: FromPath[str]
    ) -> Response[TableOut]:
        await api.consistent(request, sql=("venue",))
        out = _table_from_row(await _listed(api, table_id))
        return Response(out, headers={"ETag": f'"{out.version}"'})

    @put("/{table_id:str}", summary="Change any of a table's fields")
    async def change(
        self,
        api: ApiDep,
        admin: AdminDep,
        request: Request[Any, Any, Any],
        table_id: FromPath[str],
        data: JSONBody[TableUpdate],
    ) -> Response[TableOut]:
        async def run(ctx: WriteContext) -> Written[TableOut]:
            command = ChangeTable(
                command_id=ctx.command_id,
                actor=ctx.actor,
                now=now(),
                table_id=table_id,
                **msgspec.structs.asdict(data),
            )
            result = await change_table(api.store, command, idempotency=ctx.idempotency)
            return await _current(api, table_id, result.token, state=result.table)

        return await api.write(request, actor_of(admin), run)

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
        admin: AdminDep,
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
                now=now(),
                table_id=table_id,
                cancel_bookings=cancel_bookings,
            )
            try:
                result = await retire_table(api.store, command, idempotency=ctx.idempotency)
            except TableIsRetired:
                return await _current(api, table_id, None)
            return await _current(api, table_id, result.token, state=result.table)

        return await api.write(request, actor_of(admin), run)

    # --- blocks -------------------------------------------------------------------------

    @post(
        "/{table_id:str}/blocks",
        status_code=201,
        summary="Block a table for a period",
        description="`start` and `end` are instants (with `Z` or an offset) or the venue's"
        " wall clock (`YYYY-MM-DDTHH:MM`). 409 while a booking holds the table then.",
    )
    async def block(
        self,
        api: ApiDep,
        admin: AdminDep,
        request: Request[Any, Any, Any],
        table_id: FromPath[str],
        data: JSONBody[BlockCreate],
    ) -> Response[BlockOut]:
        start, end = _moment(data.start, "start"), _moment(data.end, "end")

        async def run(ctx: WriteContext) -> Written[BlockOut]:
            command = BlockTable(
                command_id=ctx.command_id,
                actor=ctx.actor,
                now=now(),
                table_id=table_id,
                block_id=ctx.new_id("blk"),
                start=start,
                end=end,
                reason=data.reason,
            )
            result = await block_table(api.store, command, idempotency=ctx.idempotency)
            placed = _placed_block(table_id, result.table, command.block_id)
            location = f"/api/v1/admin/tables/{table_id}/blocks/{command.block_id}"
            return Written(placed, result.token, 201, {"Location": location})

        return await api.write(request, actor_of(admin), run)

    @get("/{table_id:str}/blocks", summary="A table's blocks that have not ended yet")
    async def blocks(
        self,
        api: ApiDep,
        admin: AdminDep,
        request: Request[Any, Any, Any],
        table_id: FromPath[str],
        limit: LimitParam = 50,
        cursor: CursorParam = None,
    ) -> BlockPage:
        await api.consistent(request, sql=("venue",))
        await _listed(api, table_id)
        rows, last = await blocks_page(
            api.services.pool,
            table_id,
            ending_after=now(),
            limit=limit,
            after=after_instant(cursor),
        )
        return BlockPage(
            items=[_row_out(row) for row in rows],
            next_cursor=instant_cursor(last),
        )

    @get("/{table_id:str}/blocks/{block_id:str}", summary="One block of a table")
    async def read_block(
        self,
        api: ApiDep,
        admin: AdminDep,
        request: Request[Any, Any, Any],
        table_id: FromPath[str],
        block_id: FromPath[str],
    ) -> BlockOut:
        await api.consistent(request, sql=("venue",))
        row = await block(api.services.pool, table_id, block_id)
        if row is None:
            raise BlockNotFound(table_id, block_id)
        return _row_out(row)

    @delete("/{table_id:str}/blocks/{block_id:str}", status_code=200, summary="Lift a block")
    async def lift(
        self,
        api: ApiDep,
        admin: AdminDep,
        request: Request[Any, Any, Any],
        table_id: FromPath[str],
        block_id: FromPath[str],
    ) -> Response[BlockOut]:
        async def run(ctx: WriteContext) -> Written[BlockOut]:
            command = LiftBlock(
                command_id=ctx.command_id,
                actor=ctx.actor,
                now=now(),
                table_id=table_id,
                block_id=block_id,
            )
            result = await lift_block(api.store, command, idempotency=ctx.idempotency)
            placed = (await table_history(api.store, table_id)).blocks[block_id]
            return Written(_placed_out(placed), result.token)

        return await api.write(request, actor_of(admin), run)
