"""A table: its attributes, its blocks, and its retirement.

Rules enforced here:

- only an admin adds, changes or retires a table;
- a table is added once; a retired table cannot change or come back;
- a table has a name, seats 1 to 100, and a minimum party of 1 up to its capacity; its
  drawn size is positive;
- a party fits a table (or a set of tables pushed together) when it is at least the sum
  of their minimum capacities and at most the sum of their capacities (`check_fits`).

Changing a table's capacity does not touch bookings already made: they were decided
under the old capacity, and the restaurant rearranges the floor, not the history.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Final, assert_never

from msgspec import UNSET

from booking_core.domain._access import require_manager
from booking_core.domain._maps import with_item, without
from booking_core.domain._unset import or_current
from booking_core.domain.commands import AddTable, ChangeTable, RetireTable
from booking_core.domain.errors import (
    InvalidTable,
    PartyTooLarge,
    PartyTooSmall,
    TableAlreadyExists,
    TableIsRetired,
    TableNotFound,
)
from booking_core.domain.events import (
    BlockLifted,
    BlockPlaced,
    TableAdded,
    TableChanged,
    TableEvent,
    TableRetired,
)
from booking_core.domain.values import TableShape

__all__ = [
    "ActiveTable",
    "BlockPeriod",
    "NoTable",
    "RetiredTable",
    "TableCommand",
    "TableSpec",
    "TableState",
    "check_fits",
    "decide",
    "evolve",
    "initial_state",
    "is_terminal",
    "require_active",
]

TableCommand = AddTable | ChangeTable | RetireTable

_MAX_CAPACITY = 100
_MAX_NAME = 100


@dataclass(frozen=True, slots=True)
class TableSpec:
    name: str
    capacity: int
    min_capacity: int = 1
    area: str | None = None
    x: float = 0.0
    y: float = 0.0
    width: float = 1.0
    height: float = 1.0
    rotation: float = 0.0
    shape: TableShape = "rectangle"


@dataclass(frozen=True, slots=True)
class BlockPeriod:
    block_id: str
    starts_at: datetime
    ends_at: datetime
    reason: str
    service_dates: tuple[date, ...]


@dataclass(frozen=True, slots=True)
class NoTable:
    pass


@dataclass(frozen=True, slots=True)
class ActiveTable:
    table_id: str
    spec: TableSpec
    blocks: Mapping[str, BlockPeriod] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RetiredTable:
    table_id: str
    spec: TableSpec


TableState = NoTable | ActiveTable | RetiredTable

initial_state: Final = NoTable()


def decide(command: TableCommand, state: TableState) -> list[TableEvent]:
    require_manager(command.actor, "manage tables")
    match command:
        case AddTable():
            if not isinstance(state, NoTable):
                raise TableAlreadyExists(command.table_id)
            spec = TableSpec(
                name=command.name.strip(),
                capacity=command.capacity,
                min_capacity=command.min_capacity,
                area=command.area,
                x=command.x,
                y=command.y,
                width=command.width,
                height=command.height,
                rotation=command.rotation,
                shape=command.shape,
            )
            _check_spec(spec)
            return [_added(command.table_id, spec, command.now)]
        case ChangeTable():
            active = require_active(state, command.table_id)
            spec = _changed_spec(active.spec, command)
            _check_spec(spec)
            return [] if spec == active.spec else [_changed(command.table_id, spec, command.now)]
        case RetireTable(table_id=table_id):
            require_active(state, table_id)
            return [TableRetired(table_id=table_id, retired_at=command.now)]
        case _:
            assert_never(command)


def evolve(state: TableState, event: TableEvent) -> TableState:
    match event:
        case TableAdded():
            spec = TableSpec(
                name=event.name,
                capacity=event.capacity,
                min_capacity=event.min_capacity,
                area=event.area,
                x=event.x,
                y=event.y,
                width=event.width,
                height=event.height,
                rotation=event.rotation,
                shape=event.shape,
            )
            return ActiveTable(event.table_id, spec)
        case TableChanged():
            if not isinstance(state, ActiveTable):
                return state
            spec = TableSpec(
                name=event.name,
                capacity=event.capacity,
                min_capacity=event.min_capacity,
                area=event.area,
                x=event.x,
                y=event.y,
                width=event.width,
                height=event.height,
                rotation=event.rotation,
                shape=event.shape,
            )
            return replace(state, spec=spec)
        case TableRetired():
            if isinstance(state, ActiveTable):
                return RetiredTable(state.table_id, state.spec)
            return state
        case BlockPlaced():
            if not isinstance(state, ActiveTable):
                return state
            block = BlockPeriod(
                event.block_id, event.starts_at, event.ends_at, event.reason, event.service_dates
            )
            return replace(state, blocks=with_item(state.blocks, event.block_id, block))
        case BlockLifted(block_id=block_id):
            if not isinstance(state, ActiveTable):
                return state
            return replace(state, blocks=without(state.blocks, block_id))
        case _:
            assert_never(event)


def is_terminal(state: TableState) -> bool:
    return isinstance(state, RetiredTable)


def require_active(state: TableState, table_id: str) -> ActiveTable:
    """The table, if it exists and is not retired."""
    match state:
        case ActiveTable():
            return state
        case RetiredTable():
            raise TableIsRetired(table_id)
        case NoTable():
            raise TableNotFound(table_id)
        case _:
            assert_never(state)


def check_fits(tables: Mapping[str, TableState], table_ids: tuple[str, ...], party: int) -> None:
    """Raise unless every table exists, is in service, and together they seat `party`."""
    specs = [
        require_active(tables.get(table_id, NoTable()), table_id).spec for table_id in table_ids
    ]
    capacity = sum(spec.capacity for spec in specs)
    if party > capacity:
        raise PartyTooLarge(table_ids, capacity, party)
    min_capacity = sum(spec.min_capacity for spec in specs)
    if party < min_capacity:
        raise PartyTooSmall(table_ids, min_capacity, party)


def _changed_spec(spec: TableSpec, command: ChangeTable) -> TableSpec:
    pick = or_current
    return TableSpec(
        name=pick(command.name, spec.name).strip(),
        capacity=pick(command.capacity, spec.capacity),
        min_capacity=pick(command.min_capacity, spec.min_capacity),
        area=spec.area if command.area is UNSET else command.area,
        x=pick(command.x, spec.x),
        y=pick(command.y, spec.y),
        width=pick(command.width, spec.width),
        height=pick(command.height, spec.height),
        rotation=pick(command.rotation, spec.rotation),
        shape=pick(command.shape, spec.shape),
    )


def _check_spec(spec: TableSpec) -> None:
    if not spec.name or len(spec.name) > _MAX_NAME:
        raise InvalidTable("name", f"must be 1 to {_MAX_NAME} characters")
    if not 1 <= spec.capacity <= _MAX_CAPACITY:
        raise InvalidTable("capacity", f"must be from 1 to {_MAX_CAPACITY}")
    if not 1 <= spec.min_capacity <= spec.capacity:
        raise InvalidTable("min_capacity", "must be from 1 to the capacity")
    if spec.width <= 0 or spec.height <= 0:
        raise InvalidTable("size", "width and height must be positive")


def _added(table_id: str, spec: TableSpec, now: datetime) -> TableAdded:
    return TableAdded(
        table_id=table_id,
        name=spec.name,
        capacity=spec.capacity,
        min_capacity=spec.min_capacity,
        area=spec.area,
        x=spec.x,
        y=spec.y,
        width=spec.width,
        height=spec.height,
        rotation=spec.rotation,
        shape=spec.shape,
        added_at=now,
    )


def _changed(table_id: str, spec: TableSpec, now: datetime) -> TableChanged:
    return TableChanged(
        table_id=table_id,
        name=spec.name,
        capacity=spec.capacity,
        min_capacity=spec.min_capacity,
        area=spec.area,
        x=spec.x,
        y=spec.y,
        width=spec.width,
        height=spec.height,
        rotation=spec.rotation,
        shape=spec.shape,
        changed_at=now,
    )
