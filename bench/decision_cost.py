"""What a booking decision costs as the venue grows: BookTable (auto-assign) through the
handlers on PostgreSQL, in a venue of 1,000 tables with 10,000 more venue events, against
a new venue of 20 tables as the same-run baseline. The goal is that history and size
cost nothing (ratio >= 0.9).

The two venues live in two databases, one process serving both (a cache per store), and
are timed in alternating rounds, each going first in turn, so a neighbour's load on a
shared machine weighs on both alike. Every booking goes to an hour of its own, so its
first candidate is free and the figure is the cost of deciding, not of losing races.
Untimed bookings first warm the process's folds, as a running server has them, then a
VACUUM ANALYZE: autovacuum would have passed long before a real venue grew that large,
and growing it in seconds leaves the `venue` row of `streams` with a thousand dead
versions that every booking's append walks through until it does (about 0.7 of the new
venue's rate in that minute).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock

import psycopg

from bench.harness import Measure, scratch_database
from bench.venue import STAFF, command_id, open_round_the_clock
from booking_core.codec import EventMetadata, codec
from booking_core.domain.commands import Actor, AddTable, BookTable
from booking_core.domain.events import SlotSettingsChanged
from booking_core.domain.streams import DEFAULT_STREAMS
from booking_core.domain.values import TurnTime
from booking_core.handlers import add_table, book_table
from booking_core.store import StreamAppend
from booking_core.store.postgres import PostgresEventStore
from tablebook.database import open_pool

WRITERS = 4
ROUNDS = 6
ROUND_SECONDS = 2.0
WARM_UP = 3.0
NEW_TABLES = 20
LARGE_TABLES = 1_000
VENUE_EVENTS = 10_000
NOW = datetime(2030, 1, 1, tzinfo=UTC)
MAX_DAYS_AHEAD = 1098
BLOCK_DAYS = MAX_DAYS_AHEAD // WRITERS
"""Days of bookings per writer: 24 a day, over 6,000 a writer before it runs out."""
GUEST = Actor(user_id="u-bench-guest")


def _settings(max_days_ahead: int) -> SlotSettingsChanged:
    return SlotSettingsChanged(
        interval_minutes=60,
        turn_times=(TurnTime(max_party_size=20, minutes=60),),
        buffer_minutes=0,
        min_lead_minutes=0,
        max_days_ahead=max_days_ahead,
        time_zone="UTC",
    )


async def _grow(store: PostgresEventStore) -> None:
    """The venue grown to LARGE_TABLES tables (through the handlers, as an admin adds
    them) and VENUE_EVENTS settings changes (appended in batches: only the stream's
    length matters), the last one leaving the settings as they were."""
    for n in range(NEW_TABLES, LARGE_TABLES):
        add = AddTable(
            command_id=command_id(), actor=STAFF, now=NOW, table_id=f"t{n:04d}", name=f"T{n:04d}",
            capacity=4,
        )  # fmt: skip
        await add_table(store, add)
    metadata = EventMetadata(user_id=STAFF.user_id)
    version = await store.stream_version(DEFAULT_STREAMS.venue)
    for first in range(0, VENUE_EVENTS, 500):
        batch = [
            codec.encode(_settings(MAX_DAYS_AHEAD - (n % 2)), metadata)
            for n in range(first + 1, min(first + 500, VENUE_EVENTS) + 1)
        ]
        await store.append([StreamAppend(DEFAULT_STREAMS.venue, version, batch)])
        version += len(batch)


@dataclass
class Venue:
    """A venue being booked: each writer books the hours of a block of days of its own, a
    day apart from any other writer's (a booking holds the days either side of its own),
    so no two writers ever touch the same stream."""

    url: str
    store: PostgresEventStore
    made: list[int] = field(default_factory=lambda: [0] * WRITERS)
    count: int = 0
    seconds: float = 0.0

    def booking(self, writer: int) -> BookTable:
        n = self.made[writer]
        self.made[writer] += 1
        if n >= 24 * (BLOCK_DAYS - 1):
            raise RuntimeError("a writer ran out of days: fewer or shorter rounds")
        day = NOW.date() + timedelta(days=1 + writer * BLOCK_DAYS + n // 24)
        return BookTable(
            command_id=command_id(), actor=GUEST, now=NOW, booking_id=f"b-{day}-{n % 24}",
            date=day, time=clock(n % 24), party_size=2, guest_name="Bench Guest",
        )  # fmt: skip

    async def book_for(self, seconds: float) -> int:
        deadline = time.perf_counter() + seconds

        async def writer(number: int) -> int:
            count = 0
            while time.perf_counter() < deadline:
                await book_table(self.store, self.booking(number))
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


async def _vacuum(url: str) -> None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as connection:
        await connection.execute("VACUUM ANALYZE")


async def _measure(new_url: str, large_url: str) -> tuple[float, float]:
    pools = [
        await open_pool(url, min_size=WRITERS, max_size=WRITERS) for url in (new_url, large_url)
    ]
    try:
        new, large = (
            Venue(url, PostgresEventStore(pool, url))
            for url, pool in zip((new_url, large_url), pools, strict=True)
        )
        for venue in (new, large):
            tables = [f"t{n:04d}" for n in range(NEW_TABLES)]
            await open_round_the_clock(
                venue.store, tables, now=NOW, interval_minutes=60, max_days_ahead=MAX_DAYS_AHEAD
            )
        await _grow(large.store)
        for venue in (new, large):
            await venue.book_for(WARM_UP)
            await _vacuum(venue.url)
        for round_number in range(ROUNDS):  # new first, then large first, and so on
            for venue in (new, large) if round_number % 2 == 0 else (large, new):
                await venue.timed_round()
    finally:
        for pool in pools:
            await pool.close()
    return new.rate, large.rate


def run(url: str, _redis_url: str) -> list[Measure]:
    with scratch_database(url) as large_url:
        new, large = asyncio.run(_measure(url, large_url))
    return [
        Measure(
            name=f"BookTable auto-assign, {LARGE_TABLES:,} tables + {VENUE_EVENTS:,} venue events",
            value=large,
            unit="decisions/s",
            baseline=new,
            baseline_name=f"new venue, {NEW_TABLES} tables",
            goal="ratio >= 0.9",
            met=large / new >= 0.9,
            note=(
                f"{WRITERS} writers through the handlers on PostgreSQL, warm process,"
                f" {ROUNDS} alternating rounds of {ROUND_SECONDS:g} s each"
            ),
        )
    ]
