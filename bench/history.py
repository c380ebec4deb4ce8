"""History independence: BookTable on a table with 100,000 earlier events costs what it
costs on a new table, because a decision reads only the service days around its slot."""

from __future__ import annotations

import asyncio
import io
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock

import psycopg

from bench.harness import Measure, percentile
from bench.venue import STAFF, command_id, open_round_the_clock
from booking_core.codec import codec
from booking_core.domain.commands import (
    BookTable,
)
from booking_core.domain.events import TableReserved
from booking_core.domain.streams import DEFAULT_STREAMS
from booking_core.handlers import book_table
from booking_core.store.postgres import PostgresEventStore
from tablebook.database import open_pool

HISTORY = 100_000
SAMPLES = 300
NOW = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)


def _old_history(url: str) -> None:
    """HISTORY reservations of table OLD on days before the measured ones, by COPY."""
    out = io.StringIO()
    per_day = 24
    for n in range(HISTORY):
        day = date(2000, 1, 1) + timedelta(days=n // per_day)  # ends in 2011
        starts = datetime.combine(day, clock(0, 0), UTC) + timedelta(hours=n % per_day)
        event = TableReserved(
            table_id="OLD",
            service_date=day,
            booking_id=f"old-{n}",
            date=day,
            time=starts.time(),
            end_date=day,
            end_time=(starts + timedelta(hours=1)).time(),
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            party_size=2,
        )
        data = codec.encode(event).data.decode().replace("\\", "\\\\")
        out.write(
            f"{DEFAULT_STREAMS.service_day('OLD', day)}\t{n % per_day + 1}\tTableReserved\t{data}\n"
        )
    out.seek(0)
    with psycopg.connect(url, autocommit=True) as connection:
        with (
            connection.cursor() as cursor,
            cursor.copy("COPY events (stream_id, version, type, data) FROM STDIN") as copy,
        ):
            copy.write(out.read())
        connection.execute(
            "INSERT INTO streams SELECT stream_id, max(version) FROM events"
            " WHERE stream_id LIKE 'table-OLD@%' GROUP BY stream_id"
        )
        connection.execute("VACUUM ANALYZE events")


async def _latencies(url: str) -> dict[str, list[float]]:
    pool = await open_pool(url, min_size=1, max_size=2)
    store = PostgresEventStore(pool, url)
    await open_round_the_clock(
        store, ("OLD", "NEW"), now=NOW, interval_minutes=60, max_days_ahead=365
    )
    samples: dict[str, list[float]] = {"OLD": [], "NEW": []}
    for n in range(SAMPLES):
        day = date(2026, 2, 1) + timedelta(days=n // 20)
        at = clock(n % 20, 0)
        for table_id in ("NEW", "OLD") if n % 2 else ("OLD", "NEW"):
            command = BookTable(
                command_id=command_id(),
                actor=STAFF,
                now=NOW,
                booking_id=f"{table_id}-{n}",
                date=day,
                time=at,
                party_size=2,
                guest_name="Grace Hopper",
                table_ids=(table_id,),
            )
            began = time.perf_counter()
            await book_table(store, command)
            samples[table_id].append(time.perf_counter() - began)
    await pool.close()
    return samples


def run(url: str, _redis_url: str) -> list[Measure]:
    _old_history(url)
    samples = asyncio.run(_latencies(url))
    old, new = statistics.median(samples["OLD"]), statistics.median(samples["NEW"])
    return [
        Measure(
            name=f"BookTable p50, table with {HISTORY:,} earlier events",
            value=old * 1000,
            unit="ms",
            baseline=new * 1000,
            baseline_name="same on a new table",
            goal="ratio <= 1.2",
            met=old / new <= 1.2,
            note=(
                f"p99 {percentile(samples['OLD'], 0.99) * 1000:.1f} ms vs"
                f" {percentile(samples['NEW'], 0.99) * 1000:.1f} ms, {SAMPLES} each"
            ),
        )
    ]
