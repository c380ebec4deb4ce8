"""The API under load, over HTTP, with `tablebook serve` and `tablebook projectors run`
running as they would in production: booking throughput beside the framework's own write
ceiling and beside pgbench, the CPU each process spends per booking, 100 guests racing
for one table, availability reads beside a hello-world route, and the processes' memory."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import httpx

from api.bench_routes import BENCH_WRITES_DDL
from bench.cpu import CpuSample, ProcessGroups, sample
from bench.event_store import PgbenchRun, pgbench_insert
from bench.harness import Measure, connect, percentile, scratch_database
from bench.load import LoadResult, book_load, get_load, post_load
from bench.projections import _forget
from bench.servers import Deployment, deployment, peak_rss_mb
from bench.venue import open_round_the_clock
from booking_core.store.postgres import PostgresEventStore
from read_models.bookings_layout import TABLE
from tablebook.database import open_pool

CONNECTIONS = (4, 16)
SECONDS = float(os.environ.get("BENCH_HTTP_SECONDS", "10"))
TABLES = 60
HOURS = 20  # bookings start on the hour from 00:00 to 19:00 and last an hour
RACERS = 100
ROUNDS = 20
READ_CONNECTIONS = 16
ADMIN_EMAIL = "bench@tablebook.local"


def _first_day() -> date:
    return datetime.now(UTC).date() + timedelta(days=2)


async def _venue(url: str) -> None:
    """Open round the clock, 15-minute slots, an hour per booking, TABLES tables of four
    and one more, RACE, that the contention rounds fight over."""
    pool = await open_pool(url, min_size=1, max_size=2)
    try:
        await open_round_the_clock(
            PostgresEventStore(pool, url),
            [*(f"T{n}" for n in range(TABLES)), "RACE"],
            now=datetime.now(UTC),
            interval_minutes=15,
            max_days_ahead=1098,
        )
    finally:
        await pool.close()


def _token(running: Deployment) -> str:
    """An admin made by `tablebook users create-admin`, signed in over HTTP."""
    password = secrets.token_urlsafe(16)
    subprocess.run(
        [sys.executable, "-m", "tablebook.cli", "users", "create-admin",
         "--email", ADMIN_EMAIL, "--password", password],
        env=running.env, check=True, capture_output=True,
    )  # fmt: skip
    response = httpx.post(
        f"{running.base_url}/api/v1/auth/token",
        data={"username": ADMIN_EMAIL, "password": password},
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


@dataclass(frozen=True)
class Race:
    accepted: list[int]
    statuses: Counter[int]
    latencies: list[float]
    cpu_share: float


async def _race(base_url: str, token: str, first_day: date) -> Race:
    """ROUNDS rounds of RACERS simultaneous requests for table RACE, one day each, at
    19:00, 19:15, 19:30 and 19:45: an hour each, so every pair overlaps."""
    limits = httpx.Limits(max_connections=RACERS, max_keepalive_connections=RACERS)
    headers = {"Authorization": f"Bearer {token}"}
    accepted: list[int] = []
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    cpu, wall = 0.0, 0.0
    for round_number in range(ROUNDS):
        day = (first_day + timedelta(days=400 + round_number)).isoformat()
        # Fresh connections each round, all opened before the clock starts: uvicorn closes
        # a connection idle for 5 s, and a slow round leaves early finishers idle that long.
        async with httpx.AsyncClient(
            base_url=base_url, limits=limits, headers=headers, timeout=60
        ) as client:
            await asyncio.gather(*(client.get("/bench/hello") for _ in range(RACERS)))
            go = asyncio.Event()

            async def racer(n: int, day: str = day, go: asyncio.Event = go) -> int:
                body = {
                    "date": day,
                    "time": f"19:{15 * (n % 4):02d}",
                    "party_size": 2,
                    "guest_name": f"Racer {n}",
                    "table_id": "RACE",
                }
                await go.wait()
                started = time.perf_counter()
                response = await client.post("/api/v1/bookings", json=body)
                latencies.append(time.perf_counter() - started)
                return response.status_code

            tasks = [asyncio.create_task(racer(n)) for n in range(RACERS)]
            await asyncio.sleep(0)
            cpu_before, began = time.process_time(), time.perf_counter()
            go.set()
            codes = await asyncio.gather(*tasks)
            cpu += time.process_time() - cpu_before
            wall += time.perf_counter() - began
        statuses.update(codes)
        accepted.append(sum(code == 201 for code in codes))
    cpu_share = cpu / (wall * (os.cpu_count() or 1))
    return Race(accepted, statuses, latencies, cpu_share)


def _caught_up(url: str, seconds: float = 60) -> None:
    """Wait until the bookings projection has every event written so far."""
    with connect(url) as connection:
        row = connection.execute(
            "SELECT tx::text::bigint, position FROM events ORDER BY tx DESC, position DESC LIMIT 1"
        ).fetchone()
        assert row is not None
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            reached = connection.execute(
                "SELECT tx, position FROM projection_checkpoints WHERE name = 'bookings'"
            ).fetchone()
            if reached and (reached[0], reached[1]) >= (row[0], row[1]):
                return
            time.sleep(0.1)
    raise RuntimeError("the bookings projection did not catch up within a minute")


def _overlaps(url: str) -> tuple[int, int]:
    """Pairs of confirmed bookings sharing a table and a moment, in the read model; and
    reservations of table RACE in the event store."""
    with connect(url) as connection:
        pairs = connection.execute(
            f"SELECT count(*) FROM {TABLE} a JOIN {TABLE} b"
            " ON a.service_date = b.service_date AND a.id < b.id"
            " AND a.table_ids && b.table_ids"
            " AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at"
            " WHERE a.status = 'confirmed' AND b.status = 'confirmed'"
        ).fetchone()
        reserved = connection.execute(
            "SELECT count(*) FROM events"
            " WHERE stream_id LIKE 'table-RACE@%' AND type = 'TableReserved'"
        ).fetchone()
    return int(pairs[0]) if pairs else -1, int(reserved[0]) if reserved else -1


def _throughput_measures(
    connections: int, load: LoadResult, ceiling: LoadResult, bare: PgbenchRun
) -> list[Measure]:
    share = load.cpu_share
    refused = f"; {load.other} answered other than 201" if load.other else ""
    last = connections == CONNECTIONS[-1]
    ratio = load.ok_per_second / ceiling.ok_per_second if ceiling.ok_per_second else 0.0
    return [
        Measure(
            name=f"write ceiling: POST /bench/write, {connections} connections",
            value=ceiling.ok_per_second,
            unit="writes/s",
            baseline=bare.tps,
            baseline_name="pgbench bare INSERT",
            load_cpu=ceiling.cpu_share,
            note=(
                f"one INSERT of an event-sized row per request, same server and workers;"
                f" p50 {ceiling.p50_ms:.1f} ms, p99 {ceiling.p99_ms:.1f} ms"
                + (f"; {ceiling.other} not 201" if ceiling.other else "")
            ),
        ),
        Measure(
            name=f"book over HTTP, {connections} connections",
            value=load.ok_per_second,
            unit="bookings/s",
            baseline=ceiling.ok_per_second,
            baseline_name="POST /bench/write",
            goal="ratio >= 0.5" if last else "",
            met=ratio >= 0.5 if last else None,
            load_cpu=share,
            note=f"{load.ok:,} bookings in {load.seconds:.1f} s by {load.generator}{refused}",
        ),
        Measure(
            name=f"book over HTTP vs pgbench, {connections} connections",
            value=load.ok_per_second,
            unit="bookings/s",
            baseline=bare.tps,
            baseline_name="pgbench bare INSERT",
            goal=">= 1,000 bookings/s" if last else "",
            met=load.ok_per_second >= 1000 if last else None,
            load_cpu=share,
        ),
        Measure(
            name=f"book over HTTP p50, {connections} connections",
            value=load.p50_ms,
            unit="ms",
            baseline=bare.p50_ms,
            baseline_name="pgbench INSERT p50",
            load_cpu=share,
        ),
        Measure(
            name=f"book over HTTP p99, {connections} connections",
            value=load.p99_ms,
            unit="ms",
            baseline=bare.p99_ms,
            baseline_name="pgbench INSERT p99",
            goal="<= 50 ms" if last else "",
            met=load.p99_ms <= 50 if last else None,
            load_cpu=share,
        ),
    ]


CPU_GROUPS = ("api", "daemon", "postgres", "redis")


def _groups(running: Deployment, url: str) -> ProcessGroups:
    """The processes whose CPU counts: PostgreSQL's are the backends of this database
    and the server's background processes (whatever else the server is doing)."""
    with connect(url) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() OR backend_type <> 'client backend'"
        ).fetchall()
    return ProcessGroups(
        api=running.api.pid,
        daemon=running.projectors.pid,
        postgres=frozenset(int(row[0]) for row in rows),
    )


def _cpu_measures(
    connections: int, load: LoadResult, before: CpuSample, after: CpuSample
) -> list[Measure]:
    """CPU ms per booking of each process group over the booking load, and their sum."""
    spent = after.minus(before)
    bookings = max(1, load.ok)
    per = {name: spent[name] * 1000 / bookings for name in CPU_GROUPS}
    total = sum(per.values())
    unseen = [name for name in CPU_GROUPS if not after.seen[name]]
    measures = [
        Measure(
            name=f"CPU per booking, {name}, {connections} connections",
            value=per[name],
            unit="ms",
            note=f"{after.seen[name]} processes",
        )
        for name in CPU_GROUPS
    ]
    measures.append(
        Measure(
            name=f"CPU per booking, all four, {connections} connections",
            value=total,
            unit="ms",
            goal="<= 2 ms",
            met=total <= 2.0,
            note=(
                f"load generator {load.cpu_share:.0%} of the machine; "
                + ", ".join(f"{name} {per[name]:.2f}" for name in CPU_GROUPS)
                + (f"; not seen on this machine: {', '.join(unseen)}" if unseen else "")
            ),
        )
    )
    return measures


def _reads(running: Deployment, first_day: date) -> list[Measure]:
    def load(template: str) -> LoadResult:
        return get_load(
            running.base_url, template, READ_CONNECTIONS, SECONDS,
            first_day=first_day, days=3, hours=HOURS,
        )  # fmt: skip

    hello = load("/bench/hello")
    measures = []
    for name, template in (
        ("GET /api/v1/bookings/tables", "/api/v1/bookings/tables?date={date}&time={hour}:00"),
        ("GET /api/v1/availability", "/api/v1/availability?date={date}&party_size=2"),
    ):
        found = load(template)
        ratio = found.ok_per_second / hello.ok_per_second
        measures.append(
            Measure(
                name=f"{name}, {READ_CONNECTIONS} connections",
                value=found.ok_per_second,
                unit="req/s",
                baseline=hello.ok_per_second,
                baseline_name="GET /bench/hello",
                goal="ratio >= 0.6",
                met=ratio >= 0.6,
                load_cpu=found.cpu_share,
                note=(
                    f"p50 {found.p50_ms:.1f} ms, p99 {found.p99_ms:.1f} ms"
                    f" (hello p99 {hello.p99_ms:.1f} ms, generator {hello.cpu_share:.0%})"
                    + (f"; {found.other} not 200" if found.other else "")
                ),
            )
        )
    return measures


def _race_measures(race: Race, pairs: int, reserved: int, uncontended_p99: float) -> list[Measure]:
    codes = ", ".join(f"{code}: {count}" for code, count in sorted(race.statuses.items()))
    exactly_one = sum(n == 1 for n in race.accepted)
    return [
        Measure(
            name=f"race: {RACERS} overlapping requests, accepted per round",
            value=max(race.accepted),
            unit="bookings",
            goal="1 in every round",
            met=exactly_one == ROUNDS,
            load_cpu=race.cpu_share,
            note=f"{exactly_one} of {ROUNDS} rounds accepted exactly one; answers {codes}",
        ),
        Measure(
            name="race: overlapping confirmed pairs afterwards",
            value=pairs,
            unit="pairs",
            goal="0",
            met=pairs == 0,
            note=f"read model {TABLE}; event store holds {reserved} reservations of RACE",
        ),
        Measure(
            name=f"race: p99 latency, {RACERS} at once",
            value=percentile(race.latencies, 0.99) * 1000,
            unit="ms",
            baseline=uncontended_p99,
            baseline_name=f"p99 booking, {CONNECTIONS[-1]} conns",
            load_cpu=race.cpu_share,
            note=f"p50 {percentile(race.latencies, 0.5) * 1000:.1f} ms; python client",
        ),
    ]


def _memory(running: Deployment) -> list[Measure]:
    workers = [peak_rss_mb(pid) for pid in running.api_worker_pids()]
    api = max(workers, default=0.0)
    return [
        Measure(
            name="API peak RSS (VmHWM), largest worker",
            value=api,
            unit="MB",
            goal="< 200 MB",
            met=0 < api < 200,
            note=f"{len(workers)} workers: {', '.join(f'{w:.0f}' for w in workers)} MB",
        ),
        Measure(
            name="projector daemon peak RSS (VmHWM)",
            value=peak_rss_mb(running.projectors.pid),
            unit="MB",
        ),
    ]


def run(url: str, redis_url: str) -> list[Measure]:
    prefix = f"bench:{os.getpid()}:api:"
    first_day = _first_day()
    asyncio.run(_venue(url))
    measures: list[Measure] = []
    try:
        with deployment(url, redis_url, prefix) as running, scratch_database(url) as bare:
            token = _token(running)
            book_load(
                running.base_url, token, 4, 2, first_day=first_day, offset=900_000,
                tables=TABLES, hours=HOURS,
            )  # fmt: skip  # warm-up, not measured
            with connect(url) as connection:
                connection.execute(BENCH_WRITES_DDL)
            post_load(running.base_url, "/bench/write", 4, 2)  # warm-up, not measured
            p99_uncontended = 0.0
            for n, connections in enumerate(CONNECTIONS):
                baseline = pgbench_insert(bare, connections, SECONDS)
                ceiling = post_load(running.base_url, "/bench/write", connections, SECONDS)
                _caught_up(url)
                groups = _groups(running, url)
                before = sample(groups)
                load = book_load(
                    running.base_url, token, connections, SECONDS, first_day=first_day,
                    offset=n * 100_000, tables=TABLES, hours=HOURS,
                )  # fmt: skip
                _caught_up(url)  # the daemon's share of the bookings is done too
                after = sample(groups)
                p99_uncontended = load.p99_ms
                measures += _throughput_measures(connections, load, ceiling, baseline)
                measures += _cpu_measures(connections, load, before, after)
            race = asyncio.run(_race(running.base_url, token, first_day))
            measures += _reads(running, first_day)
            _caught_up(url)
            pairs, reserved = _overlaps(url)
            measures += _race_measures(race, pairs, reserved, p99_uncontended)
            measures += _memory(running)
    finally:
        asyncio.run(_forget(redis_url, prefix))
    return measures
