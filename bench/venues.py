"""What many venues in one deployment cost the book and read paths: the same work in one
venue of 30 tables where the deployment has only that venue, and in a deployment of 200
such venues, each with its settings, tables and bookings (so their streams, `streams`
rows and Redis keys exist). The goal is that the other venues cost nothing (ratio >= 0.9).

- **Bookings/s**: BookTable (auto-assign) through the handlers on PostgreSQL, 4 writers
  in one process, as in `decision_cost`: the one venue of the one-venue deployment, the
  same venue among 200 (one busy venue), and bookings spread over all 200 in turn; and,
  as a control, the one venue of a second one-venue deployment, whose ratio to the first
  shows how far two identical deployments land apart in this run.
- **Availability reads/s**: `read_models.availability.slots_for` (what `GET
  .../availability` asks), 4 readers in one process trusting a version seen in the last
  `AVAILABILITY_STALENESS` seconds as the route does, against the Redis model the
  availability projection built: the one venue alone, the same venue among 200, reads
  spread over all 200; and reads spread over 100 venues while another process books the
  other 100 at `BACKGROUND_RATE`/s with the projector daemon applying them, beside the
  same reads with no bookings.
- **Availability reads/s, large venue / new venue**: `decision_cost`'s pair (1,000 tables
  and 10,000 settings events against a new venue of 20 tables), its bookings/s being
  measured there.

Every comparison is timed in alternating rounds within the same run, each side going
first in turn, so a neighbour's load on a shared machine weighs on all alike. The
deployments live in their own databases and Redis prefixes, served by one process (a
fold cache per store, the read cache shared as it is in a server). Two lines re-run the
spread reads with the process's snapshot cache raised from `CACHED_SNAPSHOTS` to
`WHAT_IF_SNAPSHOTS`: they are a diagnosis of where the time goes, not a figure of the
code as shipped.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from typing import Any, cast

from redis.asyncio import Redis

import read_models.availability as availability
from api.bookings.availability import AVAILABILITY_STALENESS
from bench.decision_cost import LARGE_TABLES, NEW_TABLES, VENUE_EVENTS, _grow
from bench.harness import Measure, connect, scratch_database
from bench.projections import _forget
from bench.venue import open_round_the_clock
from booking_core.domain.commands import Actor, BookTable
from booking_core.domain.streams import DEFAULT_VENUE_ID
from booking_core.handlers import book_table
from booking_core.store import ConsistencyToken
from booking_core.store.postgres import PostgresEventStore
from projectors.availability import AvailabilityProjection
from projectors.rebuild import rebuild
from projectors.registry import codec
from read_models.model_keys import redis_checkpoint_key
from tablebook.database import open_pool

VENUES = 200
TABLES = 30
WRITERS = 4
READERS = 4
ROUNDS = 6
ROUND_SECONDS = 2.0
WARM_UP = 3.0
SETUP_BOOKINGS = 10
"""Bookings made in each of the 200 venues before timing (beside the warm-up's)."""
BACKGROUND_RATE = 50
"""Bookings/s landing in other venues during the reads that have them."""
WHAT_IF_SNAPSHOTS = 1_024
NOW = datetime(2030, 1, 1, tzinfo=UTC)
MAX_DAYS_AHEAD = 1098
BUSY_DAYS = 230
"""Days per writer for the busy venue (24 bookings a day, 5,496 a writer)."""
SPREAD_FIRST = 1 + WRITERS * BUSY_DAYS
SPREAD_DAYS = 30
BACKGROUND_FIRST = SPREAD_FIRST + WRITERS * SPREAD_DAYS
BACKGROUND_DAYS = 30
READ_FIRST = 1
READ_DAYS = 3
"""Reads ask the first days of the busy venue's bookings: 24 of its 30 tables booked at
some hour of each, none in the other venues, so every answer lists about 30 tables."""
GUEST = Actor(user_id="u-bench-guest")
ONE_VENUE = "v000"


def venue_ids(count: int, first: int = 0) -> list[str]:
    return [f"v{n:03d}" for n in range(first, first + count)]


@dataclass
class Booker:
    """Bookings in some venues of one deployment: booking n of a writer goes to venue n
    modulo their number, at the next hour of that writer's block of days in it; blocks are
    a day apart (a booking holds the days either side of its own), so no two writers
    touch the same stream, and every booking's first candidate table is free."""

    store: PostgresEventStore
    venues: list[str]
    first_day: int
    days: int
    writers: int = WRITERS
    made: list[int] = field(default_factory=list)
    count: int = 0
    seconds: float = 0.0
    cpu: float = 0.0
    """This process's CPU seconds in the timed rounds."""

    def __post_init__(self) -> None:
        self.made = [0] * self.writers

    def booking(self, writer: int) -> BookTable:
        n = self.made[writer]
        self.made[writer] += 1
        venue_id = self.venues[n % len(self.venues)]
        k = n // len(self.venues)
        if k >= 24 * (self.days - 1):
            raise RuntimeError("a writer ran out of days: fewer or shorter rounds")
        day = NOW.date() + timedelta(days=self.first_day + writer * self.days + k // 24)
        booking_id = f"{venue_id}-{day:%Y%m%d}-{k % 24}"
        return BookTable(
            command_id=f"bench-venues-{booking_id}", actor=GUEST, now=NOW, venue_id=venue_id,
            booking_id=booking_id, date=day, time=clock(k % 24), party_size=2,
            guest_name="Bench Guest",
        )  # fmt: skip

    async def book_for(self, seconds: float) -> int:
        deadline = time.perf_counter() + seconds

        async def writer(number: int) -> int:
            count = 0
            while time.perf_counter() < deadline:
                await book_table(self.store, self.booking(number))
                count += 1
            return count

        return sum(await asyncio.gather(*(writer(n) for n in range(self.writers))))

    async def book(self, count: int) -> None:
        async def writer(number: int) -> None:
            for _ in range(number, count, self.writers):
                await book_table(self.store, self.booking(number))

        await asyncio.gather(*(writer(n) for n in range(self.writers)))

    async def timed_round(self) -> None:
        began, cpu = time.perf_counter(), time.process_time()
        self.count += await self.book_for(ROUND_SECONDS)
        self.seconds += time.perf_counter() - began
        self.cpu += time.process_time() - cpu

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    @property
    def cpu_us(self) -> float:
        """This process's CPU per booking or read, in microseconds."""
        return self.cpu / self.count * 1e6


class CountingRedis(Redis):
    """A Redis client that counts what the read path asks of it: a pipeline is a snapshot
    fetched (a miss of the process's cache), an MGET a check of the model's version."""

    fetches = 0
    checks = 0

    def pipeline(self, *args: Any, **kwargs: Any) -> Any:
        self.fetches += 1
        return super().pipeline(*args, **kwargs)

    async def mget(self, *args: Any, **kwargs: Any) -> Any:
        self.checks += 1
        return await super().mget(*args, **kwargs)


def _counting(redis_url: str) -> CountingRedis:
    return cast(CountingRedis, CountingRedis.from_url(redis_url))


@dataclass(frozen=True)
class Elsewhere:
    """The other process's switch (`go`) and its count of bookings made (`done`)."""

    go: Any
    done: Any


@dataclass
class Reader:
    """`slots_for` asked by READERS tasks of one process, venue after venue, each venue
    over READ_DAYS days. `snapshots` sets the process's snapshot cache for its rounds;
    `elsewhere`, when given, books other venues during its rounds."""

    redis: CountingRedis
    prefix: str
    venues: list[str]
    snapshots: int = availability.CACHED_SNAPSHOTS
    elsewhere: Elsewhere | None = None
    count: int = 0
    seconds: float = 0.0
    cpu: float = 0.0
    """This process's CPU seconds in the timed rounds."""
    landed: int = 0
    """Bookings the other process made while this side was timed."""
    fetches: int = 0
    checks: int = 0

    def _day(self, n: int) -> date:
        return NOW.date() + timedelta(days=READ_FIRST + n // len(self.venues) % READ_DAYS)

    async def _read(self, n: int) -> None:
        await availability.slots_for(
            self.redis, self.prefix, venue_id=self.venues[n % len(self.venues)],
            day=self._day(n), party_size=2, now=NOW, max_staleness=AVAILABILITY_STALENESS,
        )  # fmt: skip

    async def sweep(self) -> None:
        """Every question once, untimed: the cache as this configuration keeps it."""
        for n in range(len(self.venues) * READ_DAYS):
            await self._read(n)

    async def read_for(self, seconds: float) -> int:
        deadline = time.perf_counter() + seconds

        async def reader(first: int) -> int:
            count, n = 0, first
            while time.perf_counter() < deadline:
                await self._read(n)
                await asyncio.sleep(0)  # a cache hit awaits nothing: let the others run
                count += 1
                n += READERS
            return count

        return sum(await asyncio.gather(*(reader(n) for n in range(READERS))))

    async def timed_round(self) -> None:
        shipped = availability.CACHED_SNAPSHOTS
        availability.CACHED_SNAPSHOTS = self.snapshots
        if self.elsewhere:
            self.elsewhere.go.set()
        try:
            await self.sweep()
            landed = self.elsewhere.done.value if self.elsewhere else 0
            fetches, checks = self.redis.fetches, self.redis.checks
            began, cpu = time.perf_counter(), time.process_time()
            self.count += await self.read_for(ROUND_SECONDS)
            self.seconds += time.perf_counter() - began
            self.cpu += time.process_time() - cpu
            self.landed += (self.elsewhere.done.value if self.elsewhere else 0) - landed
            self.fetches += self.redis.fetches - fetches
            self.checks += self.redis.checks - checks
        finally:
            if self.elsewhere:
                self.elsewhere.go.clear()
            availability.CACHED_SNAPSHOTS = shipped

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    @property
    def cpu_us(self) -> float:
        """This process's CPU per booking or read, in microseconds."""
        return self.cpu / self.count * 1e6


async def alternate(sides: Sequence[Booker | Reader]) -> None:
    """ROUNDS rounds of every side, each round starting with the next side in turn."""
    for round_number in range(ROUNDS):
        start = round_number % len(sides)
        for side in [*sides[start:], *sides[:start]]:
            await side.timed_round()


async def _open_venues(store: PostgresEventStore, venues: list[str], tables: int) -> None:
    """The venues written through the handlers as an admin would, eight at a time."""
    table_ids = [f"t{n:02d}" for n in range(tables)]

    async def opener(first: int) -> None:
        for venue_id in venues[first::8]:
            await open_round_the_clock(
                store, table_ids, now=NOW, interval_minutes=60, max_days_ahead=MAX_DAYS_AHEAD,
                venue_id=venue_id,
            )  # fmt: skip

    await asyncio.gather(*(opener(n) for n in range(8)))


async def _build_model(url: str, pool: Any, redis: Redis, prefix: str) -> None:
    """The availability model of everything written so far, as a rebuild makes it."""
    await rebuild(
        store=PostgresEventStore(pool, url),
        codec=codec,
        pool=pool,
        redis=redis,
        redis_prefix=prefix,
        redis_projections=[AvailabilityProjection()],
    )


def _vacuum(url: str) -> None:
    with connect(url) as connection:
        connection.execute("VACUUM ANALYZE")


def _daemon(url: str, redis_url: str, prefix: str) -> subprocess.Popen[bytes]:
    """`tablebook projectors run availability` on `url`, as production runs it."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": prefix,
        "LOG_LEVEL": "WARNING",
        "NOTIFY_WITH_PROJECTORS": "false",
    }
    command = [sys.executable, "-m", "tablebook.cli", "projectors", "run", "availability"]
    return subprocess.Popen(command, env=env)


async def _model_token(redis: Redis, prefix: str) -> ConsistencyToken:
    raw = await redis.get(redis_checkpoint_key(prefix, AvailabilityProjection.name))
    if not raw:
        return ConsistencyToken(0, 0)
    return ConsistencyToken.parse(raw.decode() if isinstance(raw, bytes) else raw)


async def _applied_since(pool: Any, redis: Redis, prefix: str, since: ConsistencyToken) -> int:
    """The events the daemon applied to the model after `since`, once it has every event
    written so far (so the reads beside the bookings did read a model being written)."""
    async with pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT tx::text::bigint, position FROM events ORDER BY tx DESC, position DESC LIMIT 1"
        )
        row = await cursor.fetchone()
        last = ConsistencyToken(int(row[0]), int(row[1]))
        deadline = time.monotonic() + 30
        while await _model_token(redis, prefix) < last:
            if time.monotonic() > deadline:
                raise RuntimeError("the availability projector did not catch up in 30 s")
            await asyncio.sleep(0.1)
        cursor = await connection.execute(
            "SELECT count(*) FROM events WHERE (tx::text::bigint, position) > (%s, %s)",
            (since.tx, since.position),
        )
        counted = await cursor.fetchone()
    return int(counted[0])


def _background(url: str, venues: list[str], go: Any, stop: Any, done: Any) -> None:
    """Another process booking `venues` at BACKGROUND_RATE/s while `go` is set."""
    asyncio.run(_book_in_background(url, venues, go, stop, done))


async def _book_in_background(url: str, venues: list[str], go: Any, stop: Any, done: Any) -> None:
    pool = await open_pool(url, min_size=1, max_size=2)
    booker = Booker(PostgresEventStore(pool, url), venues, BACKGROUND_FIRST, BACKGROUND_DAYS, 1)
    try:
        while not stop.is_set():
            if not go.is_set():
                await asyncio.sleep(0.005)
                continue
            began = time.perf_counter()
            await book_table(booker.store, booker.booking(0))
            done.value += 1
            await asyncio.sleep(max(0.0, 1 / BACKGROUND_RATE - (time.perf_counter() - began)))
    finally:
        await pool.close()


@dataclass
class Results:
    bookings: dict[str, float] = field(default_factory=dict)
    cpu_us: dict[str, float] = field(default_factory=dict)
    """The process's CPU per booking or read of each side (µs)."""
    reads: dict[str, float] = field(default_factory=dict)
    redis_reads: dict[str, str] = field(default_factory=dict)
    """What each side's reads asked of Redis, per 1,000 reads."""
    background: float = 0.0
    applied: int = 0
    """Events the projector daemon applied to the model during the reads."""

    def note_reads(self, sides: dict[str, Reader]) -> None:
        for name, side in sides.items():
            self.reads[name] = side.rate
            self.cpu_us[name] = side.cpu_us
            per = 1000 / side.count
            self.redis_reads[name] = (
                f"per 1,000 reads {side.fetches * per:.0f} snapshot fetches"
                f" and {side.checks * per:.0f} version checks"
            )


async def _bookings(one_url: str, control_url: str, many_url: str, results: Results) -> None:
    urls = (one_url, control_url, many_url)
    pools = [await open_pool(url, min_size=WRITERS, max_size=2 * WRITERS) for url in urls]
    try:
        one_store, control_store, many_store = (
            PostgresEventStore(pool, url) for pool, url in zip(pools, urls, strict=True)
        )
        await _open_venues(one_store, [ONE_VENUE], TABLES)
        await _open_venues(control_store, [ONE_VENUE], TABLES)
        await _open_venues(many_store, venue_ids(VENUES), TABLES)
        sides = {
            "one": Booker(one_store, [ONE_VENUE], READ_FIRST, BUSY_DAYS),
            "control": Booker(control_store, [ONE_VENUE], READ_FIRST, BUSY_DAYS),
            "busy": Booker(many_store, [ONE_VENUE], READ_FIRST, BUSY_DAYS),
            "spread": Booker(many_store, venue_ids(VENUES), SPREAD_FIRST, SPREAD_DAYS),
        }
        await sides["spread"].book(SETUP_BOOKINGS * VENUES)
        for side in sides.values():
            await side.book_for(WARM_UP)
        for url in urls:
            _vacuum(url)
        await alternate(list(sides.values()))
        for name, side in sides.items():
            results.bookings[name] = side.rate
            results.cpu_us[f"book_{name}"] = side.cpu_us
    finally:
        for pool in pools:
            await pool.close()


async def _reads(
    one_url: str, many_url: str, redis_url: str, prefixes: tuple[str, str], results: Results
) -> None:
    pools = [await open_pool(url, min_size=1, max_size=4) for url in (one_url, many_url)]
    redises = [_counting(redis_url) for _ in (one_url, many_url)]
    context = multiprocessing.get_context("spawn")
    go, stop, done = context.Event(), context.Event(), context.Value("i", 0)
    writer = context.Process(
        target=_background, args=(many_url, venue_ids(VENUES // 2), go, stop, done)
    )
    daemon = None
    try:
        for url, pool, redis, prefix in zip(
            (one_url, many_url), pools, redises, prefixes, strict=True
        ):
            await _build_model(url, pool, redis, prefix)
        daemon = _daemon(many_url, redis_url, prefixes[1])
        writer.start()
        await asyncio.sleep(2.0)  # the daemon and the writer start

        bookings_elsewhere = Elsewhere(go, done)
        one_redis, many_redis = redises
        one_prefix, many_prefix = prefixes
        others = venue_ids(VENUES // 2, first=VENUES // 2)
        sides = {
            "one": Reader(one_redis, one_prefix, [ONE_VENUE]),
            "busy": Reader(many_redis, many_prefix, [ONE_VENUE]),
            "spread": Reader(many_redis, many_prefix, venue_ids(VENUES)),
            "quiet": Reader(many_redis, many_prefix, others),
            "written": Reader(many_redis, many_prefix, others, elsewhere=bookings_elsewhere),
            "spread_big": Reader(
                many_redis, many_prefix, venue_ids(VENUES), snapshots=WHAT_IF_SNAPSHOTS
            ),
            "quiet_big": Reader(many_redis, many_prefix, others, snapshots=WHAT_IF_SNAPSHOTS),
            "written_big": Reader(
                many_redis,
                many_prefix,
                others,
                snapshots=WHAT_IF_SNAPSHOTS,
                elsewhere=bookings_elsewhere,
            ),
        }
        since = await _model_token(many_redis, many_prefix)
        await alternate(list(sides.values()))
        results.applied = await _applied_since(pools[1], many_redis, many_prefix, since)
        written = sides["written"]
        results.background = written.landed / written.seconds
        results.note_reads(sides)
    finally:
        stop.set()
        if writer.pid is not None:
            writer.join(30)
        if daemon is not None:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=30)
        for redis in redises:
            await redis.aclose()
        for pool in pools:
            await pool.close()


async def _large_reads(
    new_url: str, large_url: str, redis_url: str, prefixes: tuple[str, str], results: Results
) -> None:
    pools = [await open_pool(url, min_size=1, max_size=WRITERS) for url in (new_url, large_url)]
    redises = [_counting(redis_url) for _ in (new_url, large_url)]
    try:
        sides = []
        for url, pool, redis, prefix in zip(
            (new_url, large_url), pools, redises, prefixes, strict=True
        ):
            store = PostgresEventStore(pool, url)
            tables = [f"t{n:04d}" for n in range(NEW_TABLES)]
            await open_round_the_clock(
                store, tables, now=NOW, interval_minutes=60, max_days_ahead=MAX_DAYS_AHEAD
            )
            if url == large_url:
                await _grow(store)
            # the read days' every hour booked, as in the venues above
            await Booker(store, [DEFAULT_VENUE_ID], READ_FIRST, BUSY_DAYS, 1).book(24 * READ_DAYS)
            await _build_model(url, pool, redis, prefix)
            sides.append(Reader(redis, prefix, [DEFAULT_VENUE_ID]))
        await alternate(sides)
        results.note_reads(dict(zip(("new", "large"), sides, strict=True)))
    finally:
        for redis in redises:
            await redis.aclose()
        for pool in pools:
            await pool.close()


def _measures(results: Results) -> list[Measure]:
    conditions = (
        f"{ROUNDS} alternating rounds of {ROUND_SECONDS:g} s each, one process,"
        f" {VENUES} venues of {TABLES} tables"
    )
    b = results.bookings
    r = results.reads
    one_booking = f"1 venue of {TABLES} tables alone"
    one_read = f"1 venue of {TABLES} tables alone"

    cpu = results.cpu_us

    def booking(name: str, side: str, note: str) -> Measure:
        value = b[side]
        return Measure(
            name=name, value=value, unit="bookings/s", baseline=b["one"],
            baseline_name=one_booking, goal="ratio >= 0.9", met=value / b["one"] >= 0.9,
            note=f"{WRITERS} writers, BookTable auto-assign through the handlers; {note};"
            f" this process's CPU per booking {cpu['book_' + side]:.0f} µs"
            f" ({cpu['book_one']:.0f} µs for the baseline)",
        )  # fmt: skip

    def cpu_note(side: str, baseline: str) -> str:
        return (
            f"; {results.redis_reads[side]} ({results.redis_reads[baseline]} for the"
            f" baseline); this process's CPU per read {cpu[side]:.0f} µs"
            f" ({cpu[baseline]:.0f} µs for the baseline)"
        )

    def read(name: str, side: str, baseline: str, baseline_name: str, note: str) -> Measure:
        value = r[side]
        return Measure(
            name=name, value=value, unit="req/s", baseline=r[baseline],
            baseline_name=baseline_name, goal="ratio >= 0.9", met=value / r[baseline] >= 0.9,
            note=f"{READERS} readers, slots_for; {note}" + cpu_note(side, baseline),
        )  # fmt: skip

    def diagnosis(name: str, side: str, baseline: str, baseline_name: str) -> Measure:
        shipped = availability.CACHED_SNAPSHOTS
        return Measure(
            name=name, value=r[side], unit="req/s", baseline=r[baseline],
            baseline_name=baseline_name,
            note=f"what if the process kept {WHAT_IF_SNAPSHOTS:,} snapshots, not {shipped}:"
            f" a diagnosis, not the shipped code" + cpu_note(side, baseline),
        )  # fmt: skip

    half = VENUES // 2
    big = f"{WHAT_IF_SNAPSHOTS:,} snapshots"
    return [
        Measure(
            name="book 1 venue alone, a second such deployment",
            value=b["control"],
            unit="bookings/s",
            baseline=b["one"],
            baseline_name=one_booking,
            note="the control: the same deployment as the baseline's, timed beside it; its"
            f" distance from 1 is this run's noise; this process's CPU per booking"
            f" {cpu['book_control']:.0f} µs ({cpu['book_one']:.0f} µs for the baseline)",
        ),
        booking(f"book 1 venue among {VENUES}", "busy", conditions),
        booking(f"book spread over {VENUES} venues", "spread", "each booking the next venue"),
        read(f"availability, 1 venue among {VENUES}", "busy", "one", one_read, conditions),
        read(
            f"availability spread over {VENUES} venues",
            "spread",
            "one",
            one_read,
            "each read the next venue",
        ),
        read(
            f"availability over {half} venues, {half} others booked",
            "written",
            "one",
            one_read,
            f"{results.background:.0f} bookings/s landing in the other {half} venues from"
            f" another process, the projector daemon applying them ({results.applied:,} events"
            f" in all); the same reads with no bookings: {r['quiet']:,.0f} req/s",
        ),
        diagnosis(
            f"availability spread over {VENUES} venues, {big}", "spread_big", "one", one_read
        ),
        diagnosis(
            f"availability, {half} others booked, {big}",
            "written_big",
            "quiet_big",
            "same reads, no bookings",
        ),
        read(
            f"availability, {LARGE_TABLES:,} tables + {VENUE_EVENTS:,} venue events",
            "large",
            "new",
            f"new venue, {NEW_TABLES} tables",
            "the decision_cost pair, bookings at every hour of the read days",
        ),
    ]


def run(url: str, redis_url: str) -> list[Measure]:
    pid = os.getpid()
    prefixes = [f"bench:{pid}:venues-{name}:" for name in ("one", "many", "new", "large")]
    results = Results()
    try:
        with (
            scratch_database(url) as control_url,
            scratch_database(url) as many_url,
            scratch_database(url) as new_url,
            scratch_database(url) as large_url,
        ):
            asyncio.run(_bookings(url, control_url, many_url, results))
            asyncio.run(_reads(url, many_url, redis_url, (prefixes[0], prefixes[1]), results))
            asyncio.run(
                _large_reads(new_url, large_url, redis_url, (prefixes[2], prefixes[3]), results)
            )
    finally:
        for prefix in prefixes:
            asyncio.run(_forget(redis_url, prefix))
    return _measures(results)
