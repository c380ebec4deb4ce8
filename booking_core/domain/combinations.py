"""Table combinations: tables staff join for larger parties.

Rules enforced here:

- only a manager or an admin defines or removes a combination;
- a combination joins at least two tables, each named once, all of them tables the venue
  has and has not retired; it seats from `min_capacity` (at least 1) to `capacity` (not
  below `min_capacity`), its own numbers, not the sum of its tables' seats (two tables of
  four pushed together seat six, not eight);
- the same set of tables is combined at most once (in any order);
- retiring a table removes every combination it belongs to, in the same decision
  (`removed_with`), so a combination never names a table that is gone;
- a booking that names exactly a combination's tables is held to the combination's seats
  (`check_fits`); any other set of tables to the sum of their seats;
- auto-assign (`ranked`) tries every single table that fits before any combination: among
  tables of equal seats, those in no combination come first, so large parties still find
  the tables that combine; then the combinations that fit, smallest first, ties by name.

A booking of a combination reserves each of its tables in that table's own service-day
stream (`placement._reserve`): the event store's optimistic concurrency on those streams is
what keeps two overlapping combinations, or a combination and a single table, from holding
one table twice. Nothing here needs a lock.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Final

from booking_core.domain import table
from booking_core.domain._access import require_manager
from booking_core.domain.commands import DefineTableCombination, RemoveTableCombination
from booking_core.domain.errors import (
    CombinationAlreadyExists,
    CombinationNotFound,
    InvalidCombination,
    PartyTooLarge,
    PartyTooSmall,
    UnknownTableInCombination,
)
from booking_core.domain.events import TableCombinationDefined, TableCombinationRemoved
from booking_core.domain.table import TableState

if TYPE_CHECKING:
    from booking_core.domain.venue import VenueState

__all__ = [
    "MAX_NAME",
    "MAX_TABLES",
    "TableCombination",
    "check_fits",
    "combination_of",
    "decide_define",
    "decide_remove",
    "ranked",
    "removed_with",
    "singles_first",
]

MAX_TABLES: Final = 20
MAX_NAME: Final = 100
_MAX_SEATS: Final = 1000


@dataclass(frozen=True, slots=True)
class TableCombination:
    combination_id: str
    table_ids: tuple[str, ...]
    min_capacity: int
    capacity: int
    name: str | None = None
    defined_at: datetime | None = None

    def fit(self, party_size: int) -> bool:
        return self.min_capacity <= party_size <= self.capacity

    @property
    def sort_key(self) -> tuple[int, str, str]:
        return (self.capacity, (self.name or "").casefold(), self.combination_id)


def decide_define(
    command: DefineTableCombination, state: VenueState
) -> list[TableCombinationDefined]:
    require_manager(command.actor, "combine tables")
    table_ids = command.table_ids
    if len(table_ids) < 2:
        raise InvalidCombination("table_ids", "a combination joins at least two tables")
    if len(table_ids) > MAX_TABLES:
        raise InvalidCombination("table_ids", f"a combination joins at most {MAX_TABLES} tables")
    if len(set(table_ids)) != len(table_ids):
        raise InvalidCombination("table_ids", "each table may be named once")
    unknown = set(table_ids) - set(state.tables)
    if unknown:
        raise UnknownTableInCombination(unknown)
    if not 1 <= command.min_capacity <= _MAX_SEATS:
        raise InvalidCombination("min_capacity", f"must be from 1 to {_MAX_SEATS}")
    if not 1 <= command.capacity <= _MAX_SEATS:
        raise InvalidCombination("capacity", f"must be from 1 to {_MAX_SEATS}")
    if command.capacity < command.min_capacity:
        raise InvalidCombination(
            "capacity",
            f"the combination seats at most {command.capacity}, fewer than its minimum"
            f" of {command.min_capacity}",
        )
    name = command.name.strip() if command.name is not None else None
    if name is not None and not 1 <= len(name) <= MAX_NAME:
        raise InvalidCombination("name", f"must be 1 to {MAX_NAME} characters")
    if command.combination_id in state.combinations:
        raise CombinationAlreadyExists(command.combination_id, table_ids)
    existing = combination_of(state, table_ids)
    if existing is not None:
        raise CombinationAlreadyExists(existing.combination_id, existing.table_ids)
    return [
        TableCombinationDefined(
            combination_id=command.combination_id,
            table_ids=table_ids,
            min_capacity=command.min_capacity,
            capacity=command.capacity,
            name=name,
            defined_at=command.now,
        )
    ]


def decide_remove(
    command: RemoveTableCombination, state: VenueState
) -> list[TableCombinationRemoved]:
    require_manager(command.actor, "remove a table combination")
    if command.combination_id not in state.combinations:
        raise CombinationNotFound(command.combination_id)
    return [
        TableCombinationRemoved(
            combination_id=command.combination_id, reason="removed", removed_at=command.now
        )
    ]


def removed_with(state: VenueState, table_id: str, now: datetime) -> list[TableCombinationRemoved]:
    """The combinations that go when `table_id` is retired."""
    return [
        TableCombinationRemoved(
            combination_id=combination.combination_id, reason="table_retired", removed_at=now
        )
        for combination in sorted(state.combinations.values(), key=lambda c: c.sort_key)
        if table_id in combination.table_ids
    ]


def combination_of(state: VenueState, table_ids: Iterable[str]) -> TableCombination | None:
    """The combination of exactly these tables, in any order."""
    wanted = frozenset(table_ids)
    if len(wanted) < 2:
        return None
    for combination in state.combinations.values():
        if frozenset(combination.table_ids) == wanted:
            return combination
    return None


def check_fits(
    state: VenueState,
    tables: Mapping[str, TableState],
    table_ids: tuple[str, ...],
    party_size: int,
) -> None:
    """`table.check_fits`, except that the tables of a combination seat the party by the
    combination's own numbers."""
    combination = combination_of(state, table_ids)
    if combination is None:
        table.check_fits(tables, table_ids, party_size)
        return
    for table_id in table_ids:
        table.require_active(tables.get(table_id, table.NoTable()), table_id)
    if party_size > combination.capacity:
        raise PartyTooLarge(table_ids, combination.capacity, party_size)
    if party_size < combination.min_capacity:
        raise PartyTooSmall(table_ids, combination.min_capacity, party_size)


def ranked(state: VenueState, party_size: int) -> list[tuple[str, ...]]:
    """The combinations that seat the party, smallest first, ties by name then id; a
    combination naming a table the venue no longer has is passed over."""
    usable = [
        combination
        for combination in state.combinations.values()
        if combination.fit(party_size) and all(t in state.tables for t in combination.table_ids)
    ]
    return [c.table_ids for c in sorted(usable, key=lambda c: c.sort_key)]


def singles_first(
    state: VenueState, singles: Iterator[tuple[int, str]], party_size: int
) -> Iterator[tuple[str, ...]]:
    """Auto-assign's order: `singles` (capacity, table id), smallest first, with the tables
    of no combination before the combinable ones of the same seats, then `ranked`."""
    combinable = frozenset(
        itertools.chain.from_iterable(c.table_ids for c in state.combinations.values())
    )
    for _, group in itertools.groupby(singles, key=lambda single: single[0]):
        later: list[tuple[str, ...]] = []
        for _, table_id in group:
            if table_id in combinable:
                later.append((table_id,))
            else:
                yield (table_id,)
        yield from later
    yield from ranked(state, party_size)
