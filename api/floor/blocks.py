"""Admin routes for the blocks on the venue's tables.

A block takes a table out of service from `start` to `end` (instants with `Z` or an
offset, or venue wall-clock `YYYY-MM-DDTHH:MM`); it is refused with 409 while a booking
holds the table in that period. A placed block is answered from the table state the
command produced; a lifted one from the table's stream, which still records it.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from api.context import (
    ApiDep,
    WriteContext,
    Written,
)
from api.floor.fields import (
    after_instant,
    instant_cursor,
    listed_table,
)
from api.refused import Refused
from api.requests import AUTH, check_date, now
from api.schemas import CursorParam, LimitParam
from api.venue_scope import StaffDep, api_path, floor_plan
from booking_core.domain.commands import (
    BlockTable,
    LiftBlock,
)
from booking_core.domain.errors import BlockNotFound
from booking_core.domain.events import BlockPlaced
from booking_core.domain.table import ActiveTable, TableState
from booking_core.domain.time_rules import to_instant
from booking_core.handlers import block_table, lift_block
from read_models.floor_history import table_history
from read_models.venue import BlockRow, block, blocks_page, venue, venue_blocks_page

__all__ = ["AdminBlocksController", "VenueBlocksController"]

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


class AdminBlocksController(Controller):
    path = "/admin/tables"
    tags = ["admin: floor"]
    security = AUTH
    guards = [floor_plan]

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
        staff: StaffDep,
        request: Request[Any, Any, Any],
        table_id: FromPath[str],
        data: JSONBody[BlockCreate],
    ) -> Response[BlockOut]:
        start, end = _moment(data.start, "start"), _moment(data.end, "end")

        async def run(ctx: WriteContext) -> Written[BlockOut]:
            command = BlockTable(
                command_id=ctx.command_id,
                actor=ctx.actor,
                venue_id=ctx.venue_id,
                now=now(),
                table_id=table_id,
                block_id=ctx.new_id("blk"),
                start=start,
                end=end,
                reason=data.reason,
            )
            result = await block_table(api.store, command, idempotency=ctx.idempotency)
            placed = _placed_block(table_id, result.table, command.block_id)
            location = api_path(ctx.venue_id, f"/admin/tables/{table_id}/blocks/{command.block_id}")
            return Written(placed, result.token, 201, {"Location": location})

        return await api.write(request, staff.actor, run, venue_id=staff.venue_id)

    @get("/{table_id:str}/blocks", summary="A table's blocks that have not ended yet")
    async def blocks(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        table_id: FromPath[str],
        limit: LimitParam = 50,
        cursor: CursorParam = None,
    ) -> BlockPage:
        await api.consistent(request, sql=("venue",))
        await listed_table(api, staff.venue_id, table_id)
        rows, last = await blocks_page(
            api.services.pool,
            staff.venue_id,
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
        staff: StaffDep,
        request: Request[Any, Any, Any],
        table_id: FromPath[str],
        block_id: FromPath[str],
    ) -> BlockOut:
        await api.consistent(request, sql=("venue",))
        row = await block(api.services.pool, staff.venue_id, table_id, block_id)
        if row is None:
            raise BlockNotFound(table_id, block_id)
        return _row_out(row)

    @delete("/{table_id:str}/blocks/{block_id:str}", status_code=200, summary="Lift a block")
    async def lift(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        table_id: FromPath[str],
        block_id: FromPath[str],
    ) -> Response[BlockOut]:
        async def run(ctx: WriteContext) -> Written[BlockOut]:
            command = LiftBlock(
                command_id=ctx.command_id,
                actor=ctx.actor,
                venue_id=ctx.venue_id,
                now=now(),
                table_id=table_id,
                block_id=block_id,
            )
            result = await lift_block(api.store, command, idempotency=ctx.idempotency)
            placed = (await table_history(api.store, ctx.venue_id, table_id)).blocks[block_id]
            return Written(_placed_out(placed), result.token)

        return await api.write(request, staff.actor, run, venue_id=staff.venue_id)


class VenueBlocksController(Controller):
    """The blocks of every table for one day, for the staff's timeline of the venue."""

    path = "/admin/blocks"
    tags = ["admin: floor"]
    security = AUTH
    guards = [floor_plan]

    @get(
        "/",
        summary="Every table's blocks on a day",
        description="The blocks that overlap the venue's calendar day `date` (its midnight to"
        " the next, on the venue's clock), whether or not they have ended, in start order.",
    )
    async def day(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        date: Annotated[dt.date, QueryParameter(description="The venue's day, YYYY-MM-DD")],
        limit: LimitParam = 50,
        cursor: CursorParam = None,
    ) -> BlockPage:
        check_date(date)
        await api.consistent(request, sql=("venue",))
        zone = (await venue(api.services.pool, staff.venue_id)).settings.time_zone
        midnight = dt.datetime.combine(date, dt.time())
        # Midnight may fall in a clock change; as the clock before the change would say.
        period = (
            to_instant(midnight, zone, strict=False),
            to_instant(midnight + dt.timedelta(days=1), zone, strict=False),
        )
        rows, last = await venue_blocks_page(
            api.services.pool,
            staff.venue_id,
            overlapping=period,
            limit=limit,
            after=after_instant(cursor),
        )
        return BlockPage(items=[_row_out(row) for row in rows], next_cursor=instant_cursor(last))
