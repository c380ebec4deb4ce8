"""Table commands: add, change, retire, block, lift a block.

Retiring reads the table's service days across the booking window (see `floor`), and,
when asked to cancel what it finds, those bookings and their other tables' service days.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from booking_core.domain import floor, lifecycle
from booking_core.domain import table as table_decider
from booking_core.domain.commands import AddTable, BlockTable, ChangeTable, LiftBlock, RetireTable
from booking_core.domain.decision import Decision
from booking_core.domain.folding import PACING, TABLE
from booking_core.domain.table import TableState
from booking_core.handlers._session import (
    DEFAULT_RETRY,
    CommandResult,
    Decide,
    RetryPolicy,
    Session,
    execute,
)
from booking_core.store import EventStore, IdempotencyKey

__all__ = ["TableResult", "add_table", "block_table", "change_table", "lift_block", "retire_table"]

TableCommand = AddTable | ChangeTable | RetireTable | BlockTable | LiftBlock


@dataclass(frozen=True, slots=True, kw_only=True)
class TableResult(CommandResult):
    table: TableState
    """The table after the command."""
    version: int
    """The table stream's version after the command."""


async def add_table(
    store: EventStore,
    command: AddTable,
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    idempotency: IdempotencyKey | None = None,
) -> TableResult:
    async def decide(session: Session) -> Decision:
        venue = await session.venue()
        state = await session.table(command.table_id)
        return floor.decide_add(command, venue=venue, table_state=state)

    return await _run(store, command, decide, retry, idempotency)


async def change_table(
    store: EventStore,
    command: ChangeTable,
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    idempotency: IdempotencyKey | None = None,
) -> TableResult:
    async def decide(session: Session) -> Decision:
        venue = await session.venue()
        state = await session.table(command.table_id)
        return floor.decide_change(command, venue=venue, table_state=state)

    return await _run(store, command, decide, retry, idempotency)


async def retire_table(
    store: EventStore,
    command: RetireTable,
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    idempotency: IdempotencyKey | None = None,
) -> TableResult:
    """Refused with `TableHasBookings` while bookings are to come, unless
    `command.cancel_bookings`; then they are cancelled in the same append."""

    async def decide(session: Session) -> Decision:
        state = await session.table(command.table_id)
        table_decider.decide(command, state)
        venue = await session.venue()
        scanned = floor.retirement_day_streams(
            session.streams, command.table_id, venue, command.now
        )
        days = await session.days(scanned)
        upcoming = sorted(floor.upcoming_bookings(days, command.now))
        found = await asyncio.gather(*(session.booking(booking_id) for booking_id in upcoming))
        bookings = dict(zip(upcoming, found, strict=True))
        if command.cancel_bookings:
            others = [
                s
                for booking in found
                for s in lifecycle.reservation_streams(session.streams, booking)
            ]
            days = {**days, **await session.days(others)}
        paced_ids = [
            s for booking in found for s in lifecycle.pacing_streams(session.streams, booking)
        ]
        paced = await session.load_many(paced_ids, PACING) if command.cancel_bookings else {}
        return floor.decide_retire(
            command, venue=venue, table_state=state, days=days, bookings=bookings, paced=paced
        )

    return await _run(store, command, decide, retry, idempotency)


async def block_table(
    store: EventStore,
    command: BlockTable,
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    idempotency: IdempotencyKey | None = None,
) -> TableResult:
    async def decide(session: Session) -> Decision:
        venue = await session.venue()
        state = await session.table(command.table_id)
        floor.check_block(command, venue=venue, table_state=state)
        days = await session.days(floor.block_day_streams(command, venue))
        return floor.decide_block(command, venue=venue, table_state=state, days=days)

    return await _run(store, command, decide, retry, idempotency)


async def lift_block(
    store: EventStore,
    command: LiftBlock,
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    idempotency: IdempotencyKey | None = None,
) -> TableResult:
    async def decide(session: Session) -> Decision:
        state = await session.table(command.table_id)
        days = await session.days(floor.lift_day_streams(command, state))
        return floor.decide_lift(command, table_state=state, days=days)

    return await _run(store, command, decide, retry, idempotency)


async def _run(
    store: EventStore,
    command: TableCommand,
    decide: Decide,
    retry: RetryPolicy,
    idempotency: IdempotencyKey | None,
) -> TableResult:
    result, session, decision = await execute(
        store, command, decide, retry=retry, idempotency=idempotency
    )
    stream_id = session.streams.table(command.table_id)
    return TableResult(
        events=result.events,
        token=result.token,
        versions=result.versions,
        duplicate=result.duplicate,
        payload=result.payload,
        attempts=result.attempts,
        table=session.state_after(stream_id, TABLE, decision),
        version=result.versions.get(stream_id, 0),
    )
