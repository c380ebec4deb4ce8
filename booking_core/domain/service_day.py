"""One table on one service day: its reservations and blocks. No double bookings here.

Rules enforced here:

- a table is reserved only if the turn, widened by the venue's buffer on both sides,
  overlaps no other reservation, and the turn itself overlaps no block;
- a table is blocked only if the period overlaps no reservation;
- releasing what is not reserved, or lifting what is not blocked, changes nothing.

Which streams are enough? A booking lives in the stream of its start's service date `d`,
and (see `time_rules`) lies between `d` 00:00 and `d+2` 00:00 local time. Only bookings of
`d-1`, `d` and `d+1` can therefore overlap it, so reservations are decided against the
three streams merged (`neighbourhood`), and the handler holds all three at their
versions when it appends. We check the neighbours rather than assume shifts keep
bookings apart: opening hours change while bookings stay, and this way a later change of
hours can never let two bookings overlap. A block is written to the stream of every
local calendar date it touches, so each booking that could meet it sees it.

Cancelled, completed and no-show bookings were released from this stream, so they no
longer hold the table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Final, assert_never

from booking_core.domain._maps import with_item, without
from booking_core.domain.errors import BlockOverlapsBookings, TableAlreadyBooked, TableIsBlocked
from booking_core.domain.events import (
    ReleaseReason,
    ServiceDayEvent,
    TableBlocked,
    TableReleased,
    TableReserved,
    TableUnblocked,
)
from booking_core.domain.time_rules import Slot

__all__ = [
    "Block",
    "BlockedPeriod",
    "Release",
    "Reservation",
    "Reserve",
    "ServiceDay",
    "ServiceDayCommand",
    "Unblock",
    "decide",
    "evolve",
    "initial_state",
    "neighbourhood",
]


@dataclass(frozen=True, slots=True)
class Reservation:
    """A booking holding the table; times as in `TableReserved`."""

    booking_id: str
    party_size: int
    date: dt.date
    time: dt.time
    end_date: dt.date
    end_time: dt.time
    starts_at: dt.datetime
    ends_at: dt.datetime


@dataclass(frozen=True, slots=True)
class BlockedPeriod:
    block_id: str
    starts_at: datetime
    ends_at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class ServiceDay:
    reservations: Mapping[str, Reservation] = field(default_factory=dict)
    blocks: Mapping[str, BlockedPeriod] = field(default_factory=dict)


initial_state: Final = ServiceDay()


@dataclass(frozen=True, slots=True)
class Reserve:
    """Hold the table for a booking; the booking's own earlier reservation, if it is
    moving, does not count as a clash."""

    table_id: str
    booking_id: str
    slot: Slot
    party_size: int
    buffer_minutes: int


@dataclass(frozen=True, slots=True)
class Release:
    table_id: str
    service_date: date
    booking_id: str
    reason: ReleaseReason
    now: datetime


@dataclass(frozen=True, slots=True)
class Block:
    table_id: str
    service_date: date
    block_id: str
    starts_at: datetime
    ends_at: datetime
    start_local: datetime
    end_local: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class Unblock:
    table_id: str
    service_date: date
    block_id: str


ServiceDayCommand = Reserve | Release | Block | Unblock


def decide(command: ServiceDayCommand, state: ServiceDay) -> list[ServiceDayEvent]:
    """For `Reserve` and `Block`, `state` is the `neighbourhood` of the service date."""
    match command:
        case Reserve(slot=slot):
            buffer = timedelta(minutes=command.buffer_minutes)
            for block in state.blocks.values():
                if block.starts_at < slot.ends_at and slot.starts_at < block.ends_at:
                    raise TableIsBlocked(command.table_id, block.block_id)
            for other in state.reservations.values():
                if other.booking_id == command.booking_id:
                    continue
                if (
                    other.starts_at < slot.ends_at + buffer
                    and slot.starts_at < other.ends_at + buffer
                ):
                    raise TableAlreadyBooked(command.table_id, other.booking_id)
            return [
                TableReserved(
                    table_id=command.table_id,
                    service_date=slot.service_date,
                    booking_id=command.booking_id,
                    date=slot.date,
                    time=slot.time,
                    end_date=slot.end_date,
                    end_time=slot.end_time,
                    starts_at=slot.starts_at,
                    ends_at=slot.ends_at,
                    party_size=command.party_size,
                )
            ]
        case Release(booking_id=booking_id):
            held = state.reservations.get(booking_id)
            if held is None:
                return []
            return [
                TableReleased(
                    table_id=command.table_id,
                    service_date=command.service_date,
                    booking_id=booking_id,
                    reason=command.reason,
                    date=held.date,
                    time=held.time,
                    end_date=held.end_date,
                    end_time=held.end_time,
                    starts_at=held.starts_at,
                    ends_at=held.ends_at,
                    party_size=held.party_size,
                    released_at=command.now,
                )
            ]
        case Block():
            if command.block_id in state.blocks:
                return []
            clashing = [
                held.booking_id
                for held in state.reservations.values()
                if held.starts_at < command.ends_at and command.starts_at < held.ends_at
            ]
            if clashing:
                raise BlockOverlapsBookings(command.table_id, clashing)
            return [
                TableBlocked(
                    table_id=command.table_id,
                    service_date=command.service_date,
                    block_id=command.block_id,
                    start_date=command.start_local.date(),
                    start_time=command.start_local.time(),
                    end_date=command.end_local.date(),
                    end_time=command.end_local.time(),
                    starts_at=command.starts_at,
                    ends_at=command.ends_at,
                    reason=command.reason,
                )
            ]
        case Unblock(block_id=block_id):
            lifted = state.blocks.get(block_id)
            if lifted is None:
                return []
            return [
                TableUnblocked(
                    table_id=command.table_id,
                    service_date=command.service_date,
                    block_id=block_id,
                    starts_at=lifted.starts_at,
                    ends_at=lifted.ends_at,
                )
            ]
        case _:
            assert_never(command)


def evolve(state: ServiceDay, event: ServiceDayEvent) -> ServiceDay:
    match event:
        case TableReserved():
            held = Reservation(
                booking_id=event.booking_id,
                party_size=event.party_size,
                date=event.date,
                time=event.time,
                end_date=event.end_date,
                end_time=event.end_time,
                starts_at=event.starts_at,
                ends_at=event.ends_at,
            )
            return replace(
                state, reservations=with_item(state.reservations, event.booking_id, held)
            )
        case TableReleased(booking_id=booking_id):
            return replace(state, reservations=without(state.reservations, booking_id))
        case TableBlocked():
            block = BlockedPeriod(event.block_id, event.starts_at, event.ends_at, event.reason)
            return replace(state, blocks=with_item(state.blocks, event.block_id, block))
        case TableUnblocked(block_id=block_id):
            return replace(state, blocks=without(state.blocks, block_id))
        case _:
            assert_never(event)


def neighbourhood(days: Iterable[ServiceDay]) -> ServiceDay:
    """Several service days of one table seen as one, for overlap checks."""
    reservations: dict[str, Reservation] = {}
    blocks: dict[str, BlockedPeriod] = {}
    for day in days:
        reservations.update(day.reservations)
        blocks.update(day.blocks)
    return ServiceDay(reservations, blocks)
