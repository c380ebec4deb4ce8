"""What pacing costs a booking: BookTable through the handlers on PostgreSQL in a venue
with a pacing rule, against the same venue without one as the same-run baseline (goal:
ratio >= 0.8).

A paced booking appends to its service day's pacing stream (`pacing@{date}`) besides its
table's, so two loads are measured:

- *spread*: each writer books days of its own (as `decision_cost`), so the pacing stream
  adds a read and an append but no contention;
- *one evening*: every writer books the same service day, each a table of its own, so the
  bookings that never met on a table now all meet on the day's pacing stream, and the
  losers of each race decide again. This is the price of a limit that holds across
  tables, and it is what a busy evening looks like.

The rule never refuses (a limit far above what the rounds book): the figure is the cost
of counting, not of refusing. The two venues live in two databases, timed in alternating
rounds, each going first in turn.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock

from bench.harness import Measure, scratch_database
from bench.venue import STAFF, command_id, open_round_the_clock
from booking_core.domain.commands import Actor, BookTable, ChangeSlotSettings
from booking_core.domain.values import PacingRule, TurnTime
from booking_core.handlers import book_table, change_venue
from booking_core.handlers._session import RetryPolicy
from booking_core.store.postgres import PostgresEventStore
from tablebook.database import open_pool

WRITERS = 4
ROUNDS = 4
ROUND_SECONDS = 2.0
WARM_UP = 2.0
TABLES = 250
NOW = datetime(2030, 1, 1, tzinfo=UTC)
MAX_DAYS_AHEAD = 1098
BLOCK_DAYS = MAX_DAYS_AHEAD // WRITERS
RULE = PacingRule(per_minutes=60, max_covers=100_000)
RETRY = RetryPolicy(attempts=50)
"""Enough attempts that no booking of the busy evening gives up (the default is 8)."""
GUEST = Actor(user_id="u-bench-guest")


@dataclass
class Venue:
    url: str
    store: PostgresEventStore
    plan: Callable[[int, int], tuple[date, clock, str]]
    """(writer, its nth booking) -> (date, time, table)."""
    made: list[int]
    count: int = 0
    seconds: float = 0.0

    def booking(self, writer: int) -> BookTable:
        n = self.made[writer]
        self.made[writer] += 1
        day, at, table_id = self.plan(writer, n)
        return BookTable(
            command_id=command_id(), actor=GUEST, now=NOW, booking_id=f"b-{writer}-{n}",
            date=day, time=at, party_size=2, guest_name="Bench Guest", table_ids=(table_id,),
        )  # fmt: skip

    async def book_for(self, seconds: float) -> int:
        deadline = time.perf_counter() + seconds

        async def writer(number: int) -> int:
            count = 0
            while time.perf_counter() < deadline:
                await book_table(self.store, self.booking(number), retry=RETRY)
                count += 1
            return count

        return sum(await asyncio.gather(*(writer(n) for n in range(WRITERS))))

    async def timed_round(self) -> None:
        began = time.perf_counter()
        self.count += await self.book_for(ROUND_SECONDS)
        self.seconds += time.perf_counter() - began

    @property
    def rate(self) -> float:
        return self.count / self.seconds


def spread(writer: int, n: int) -> tuple[date, clock, str]:
    """Each writer its own block of days, an hour a booking, the first table."""
    if n >= 24 * (BLOCK_DAYS - 1):
        raise RuntimeError("a writer ran out of days: fewer or shorter rounds")
    day = NOW.date() + timedelta(days=1 + writer * BLOCK_DAYS + n // 24)
    return day, clock(n % 24), "t0000"


def one_evening(writer: int, n: int) -> tuple[date, clock, str]:
    """Every writer on one day: writer w books tables w, w + WRITERS, ..., hour by hour."""
    per_writer = TABLES // WRITERS
    if n >= per_writer * 24:
        raise RuntimeError("the evening ran out of tables: fewer or shorter rounds")
    table = writer + WRITERS * (n % per_writer)
    return NOW.date() + timedelta(days=7), clock(n // per_writer), f"t{table:04d}"


async def _pace(store: PostgresEventStore) -> None:
    await change_venue(
        store,
        ChangeSlotSettings(
            command_id=command_id(), actor=STAFF, now=NOW, interval_minutes=60,
            turn_times=(TurnTime(max_party_size=20, minutes=60),), buffer_minutes=0,
            min_lead_minutes=0, max_days_ahead=MAX_DAYS_AHEAD, time_zone="UTC", pacing=(RULE,),
        ),
    )  # fmt: skip


async def _measure(
    off_url: str, on_url: str, plan: Callable[[int, int], tuple[date, clock, str]]
) -> tuple[float, float]:
    pools = [await open_pool(url, min_size=WRITERS, max_size=WRITERS) for url in (off_url, on_url)]
    try:
        off, on = (
            Venue(url, PostgresEventStore(pool, url), plan, [0] * WRITERS)
            for url, pool in zip((off_url, on_url), pools, strict=True)
        )
        tables = [f"t{n:04d}" for n in range(TABLES)]
        for venue in (off, on):
            await open_round_the_clock(
                venue.store, tables, now=NOW, interval_minutes=60, max_days_ahead=MAX_DAYS_AHEAD
            )
        await _pace(on.store)
        for venue in (off, on):
            await venue.book_for(WARM_UP)
        for round_number in range(ROUNDS):
            for venue in (off, on) if round_number % 2 == 0 else (on, off):
                await venue.timed_round()
    finally:
        for pool in pools:
            await pool.close()
    return off.rate, on.rate


def run(url: str, _redis_url: str) -> list[Measure]:
    measures = []
    for name, plan in (("spread over days", spread), ("one evening", one_evening)):
        with scratch_database(url) as off_url, scratch_database(url) as on_url:
            off, on = asyncio.run(_measure(off_url, on_url, plan))
        measures.append(
            Measure(
                name=f"BookTable with pacing on, {name}",
                value=on,
                unit="bookings/s",
                baseline=off,
                baseline_name="the same venue, pacing off",
                goal="ratio >= 0.8",
                met=on / off >= 0.8,
                note=(
                    f"{WRITERS} writers through the handlers on PostgreSQL, a table each named,"
                    f" {ROUNDS} alternating rounds of {ROUND_SECONDS:g} s"
                ),
            )
        )
    return measures
