"""How long a waiting party will wait: a quote worked out from the floor, and how good the
quotes turned out to be.

Pure functions over what the read models tell (`read_models.waitlist` gathers it), so
the same floor always gives the same quotes.

The quote (`quote_list`), for the parties in the order they joined the list:

1. Every table in service holds, from now on, the parties the floor already has for it:
   a seated party until its expected end (its start plus its turn time, or now if it
   has overstayed: it is about to leave), and each booking of the day not yet seated
   from its start to its end. Around each hold, the venue's buffer between parties.
2. Each waiting party in turn needs a table that seats it (its seats and minimum) for
   the venue's turn time for its size. For each such table, the earliest moment from now
   at which the whole turn fits between the holds; the party is given the earliest of
   them (the smaller table on a tie, then the table id), and that turn becomes a hold
   of its own, so a party behind it that fits the same tables waits for it.
3. The quote is the minutes from now to that moment, rounded up. A party no table seats
   alone gets no quote (None).

It is an estimate, not a promise: it assumes every booking arrives on time and every
party leaves at the end of its turn. `median_absolute_error` reports how far it was off.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = [
    "FloorTable",
    "Hold",
    "Quote",
    "WaitingParty",
    "median_absolute_error",
    "quote_list",
]


@dataclass(frozen=True, slots=True)
class FloorTable:
    table_id: str
    capacity: int
    min_capacity: int = 1

    def seats(self, party_size: int) -> bool:
        return self.min_capacity <= party_size <= self.capacity


@dataclass(frozen=True, slots=True)
class Hold:
    """A party the floor has on tables: seated, or a booking still to come."""

    table_ids: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime
    seated: bool


@dataclass(frozen=True, slots=True)
class WaitingParty:
    entry_id: str
    party_size: int


@dataclass(frozen=True, slots=True)
class Quote:
    entry_id: str
    position: int
    """1 for the party first in line."""
    wait_minutes: int | None
    table_id: str | None
    """The table the estimate expects the party to take."""


_Span = tuple[datetime, datetime]


def quote_list(
    now: datetime,
    tables: Iterable[FloorTable],
    holds: Iterable[Hold],
    waiting: Sequence[WaitingParty],
    *,
    turn_minutes: Callable[[int], int],
    buffer_minutes: int = 0,
) -> list[Quote]:
    """Each waiting party's quote, in line order (see the module's docstring)."""
    buffer = timedelta(minutes=buffer_minutes)
    in_service = sorted(tables, key=lambda t: (t.capacity, t.table_id))
    busy: dict[str, list[_Span]] = {table.table_id: [] for table in in_service}
    for hold in holds:
        end = max(hold.ends_at, now) if hold.seated else hold.ends_at
        if end <= now:
            continue
        for table_id in hold.table_ids:
            if table_id in busy:
                busy[table_id].append((hold.starts_at - buffer, end + buffer))
    quotes = []
    for position, party in enumerate(waiting, start=1):
        turn = timedelta(minutes=turn_minutes(party.party_size))
        best: tuple[datetime, FloorTable] | None = None
        for table in in_service:
            if not table.seats(party.party_size):
                continue
            start = _earliest(now, turn, busy[table.table_id])
            if best is None or start < best[0]:
                best = (start, table)
        if best is None:
            quotes.append(Quote(party.entry_id, position, None, None))
            continue
        start, table = best
        busy[table.table_id].append((start - buffer, start + turn + buffer))
        wait = math.ceil((start - now).total_seconds() / 60)
        quotes.append(Quote(party.entry_id, position, wait, table.table_id))
    return quotes


def _earliest(now: datetime, turn: timedelta, spans: list[_Span]) -> datetime:
    """The first moment from `now` at which `turn` fits between the spans."""
    start = now
    for span_start, span_end in sorted(spans):
        if start + turn <= span_start:
            break
        start = max(start, span_end)
    return start


def median_absolute_error(pairs: Iterable[tuple[int, int]]) -> float | None:
    """The median of |actual - quoted| over `(quoted, actual)` minutes; None for none."""
    errors = [abs(actual - quoted) for quoted, actual in pairs]
    return float(statistics.median(errors)) if errors else None
