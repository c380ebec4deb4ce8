"""The scale curve: what a booking, an append, an availability read and a rebuild cost as
the store grows to ten million events over 200 venues.

The store is filled by COPY in stages (`BENCH_SCALE_STAGES`, in events: 0, 1,000,000,
3,000,000, 10,000,000), each stage continuing the history of the one before, then
VACUUM ANALYZEd. At each stage, on a venue of its own that holds none of that history:

- BookTable p50 through the handlers, SAMPLES bookings of distinct slots;
- the p50 of appending one event to a fresh stream, one writer;
- every read model rebuilt from the first event (events/s);
- `GET /api/v1/venues/{id}/availability` over HTTP against the real server and daemon
  for `BENCH_SCALE_SECONDS`, beside `GET /bench/hello` on the same server;
- the bytes on disk per event: `events` and `streams` with their indexes and TOAST.

The largest stage's figures are set beside the smallest's; the rebuild's beside the
first stage of at least a million events, as a rebuild of a few events times its start
and not its pace. The whole curve goes to bench/results/scale.json and scale.png.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import platform
import statistics
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

import projectors.registry as registry
from bench.event_store import append_rate
from bench.harness import Measure, connect
from bench.load import get_load
from bench.projections import NOW, _forget, copy_events, history, rebuild_rate
from bench.servers import deployment
from bench.venue import STAFF, command_id, open_round_the_clock
from booking_core.codec import codec
from booking_core.domain.commands import BookTable, OpenVenue
from booking_core.domain.events import TableAdded
from booking_core.handlers import book_table, change_registry
from booking_core.store import NewEvent
from booking_core.store.postgres import PostgresEventStore
from tablebook.database import open_pool
from tablebook.progress import progress_bar

__all__ = ["run"]

STAGES = [
    int(s) for s in os.environ.get("BENCH_SCALE_STAGES", "0,1000000,3000000,10000000").split(",")
]
HTTP_SECONDS = float(os.environ.get("BENCH_SCALE_SECONDS", "10"))
APPEND_SECONDS = 3.0
VENUES = 200
SAMPLES = 300
PER_DAY = 20
CONNECTIONS = 16
TABLES = tuple(f"M{t}" for t in range(4))
RESULTS = Path(__file__).parent / "results"


@dataclass(frozen=True)
class Stage:
    events: int
    booktable_p50_ms: float
    append_p50_ms: float
    rebuild_per_s: float
    availability_per_s: float
    hello_per_s: float
    bytes_per_event: float


def _venue_id() -> str:
    return f"ven_{uuid.uuid4().hex}"


def _fill(url: str, target: int, lines: Iterator[str]) -> None:
    """Bring the store to `target` events from `lines`."""
    with connect(url) as connection:
        row = connection.execute("SELECT count(*) FROM events").fetchone()
        missing = target - (int(row[0]) if row else 0)
        if missing > 0:
            with progress_bar(f"filling to {target:,} events", missing) as advance:
                copy_events(connection, itertools.islice(lines, missing), advance)
        connection.execute("VACUUM ANALYZE events")
        connection.execute("VACUUM ANALYZE streams")


def _size(url: str) -> tuple[int, float]:
    """The events in the store, and its bytes on disk per event."""
    with connect(url) as connection:
        row = connection.execute(
            "SELECT count(*), pg_total_relation_size('events')"
            " + pg_total_relation_size('streams') FROM events"
        ).fetchone()
    events, size = (int(row[0]), int(row[1])) if row else (0, 0)
    return events, size / max(events, 1)


async def _open_venue(url: str, venue_id: str, now: datetime) -> None:
    """The measured venue, opened in the registry (so the API finds it) and round the
    clock."""
    pool = await open_pool(url, min_size=1, max_size=2)
    store = PostgresEventStore(pool, url)
    try:
        await change_registry(
            store,
            OpenVenue(
                command_id=command_id(), actor=STAFF, now=now, venue_id=venue_id,
                name="The Measured Bistro", slug=f"measured-{venue_id[4:12]}", time_zone="UTC",
            ),
        )  # fmt: skip
        await open_round_the_clock(
            store, TABLES, now=now, interval_minutes=60, max_days_ahead=365, venue_id=venue_id
        )
    finally:
        await pool.close()


def _table_added(table_id: str) -> NewEvent:
    """What the append measure writes: an event the rebuild after it can read."""
    return codec.encode(TableAdded(table_id=table_id, name=table_id, capacity=2, added_at=NOW))


async def _booktable_p50(url: str, venue_id: str, now: datetime, first_day: date) -> float:
    pool = await open_pool(url, min_size=1, max_size=2)
    store = PostgresEventStore(pool, url)
    latencies = []
    try:
        for n in range(SAMPLES):
            command = BookTable(
                command_id=command_id(),
                actor=STAFF,
                now=now,
                venue_id=venue_id,
                booking_id=f"scale-{uuid.uuid4().hex[:12]}",
                date=first_day + timedelta(days=n // (PER_DAY * len(TABLES))),
                time=clock(n // len(TABLES) % PER_DAY, 0),
                party_size=2,
                guest_name="Grace Hopper",
                table_ids=(TABLES[n % len(TABLES)],),
            )
            began = time.perf_counter()
            await book_table(store, command)
            latencies.append(time.perf_counter() - began)
    finally:
        await pool.close()
    return statistics.median(latencies) * 1000


def _sent_up_to_head(url: str) -> None:
    """The notification sender's checkpoint at the last event, as in a deployment that
    has sent them all: a rebuild leaves it out, and from the first event it would send
    for millions of bookings on the CPU the server is measured on."""
    with connect(url) as connection:
        connection.execute(
            "INSERT INTO projection_checkpoints (name, tx, position)"
            " SELECT name, tx::text::bigint, position FROM unnest(%s::text[]) AS name,"
            " (SELECT tx, position FROM events ORDER BY tx DESC, position DESC LIMIT 1) AS head"
            " ON CONFLICT (name) DO UPDATE SET tx = excluded.tx, position = excluded.position",
            (list(registry.PROCESS_MANAGER_NAMES),),
        )


def _reads(url: str, redis_url: str, prefix: str, venue_id: str, day: date) -> tuple[float, float]:
    """Availability and hello-world requests/s, against the server and the daemon."""
    template = f"/api/v1/venues/{venue_id}/availability?date={{date}}&party_size=2"
    _sent_up_to_head(url)
    with deployment(url, redis_url, prefix) as running:

        def load(path: str, seconds: float) -> float:
            found = get_load(
                running.base_url, path, CONNECTIONS, seconds, first_day=day, days=3, hours=PER_DAY
            )
            if found.other:
                raise RuntimeError(f"{path}: {found.other} answers were not 200")
            return found.ok_per_second

        load(template, 1)  # warm-up: each worker's first snapshot of the venue
        hello = load("/bench/hello", HTTP_SECONDS)
        return load(template, HTTP_SECONDS), hello


def _stage(
    url: str, redis_url: str, prefix: str, target: int, lines: Iterator[str], n: int
) -> Stage:
    _fill(url, target, lines)
    venue_id = _venue_id()
    now = datetime.now(UTC)
    first_day = now.date() + timedelta(days=7)
    asyncio.run(_open_venue(url, venue_id, now))
    booktable = asyncio.run(_booktable_p50(url, venue_id, now, first_day))
    _, appends = asyncio.run(append_rate(url, 1, APPEND_SECONDS, _table_added))
    events, per_event = _size(url)
    rebuilt = asyncio.run(rebuild_rate(url, redis_url, prefix, events))
    availability, hello = _reads(url, redis_url, prefix, venue_id, first_day)
    stage = Stage(
        events=events,
        booktable_p50_ms=booktable,
        append_p50_ms=statistics.median(appends) * 1000,
        rebuild_per_s=rebuilt,
        availability_per_s=availability,
        hello_per_s=hello,
        bytes_per_event=per_event,
    )
    print(f"stage {n}: {stage}", flush=True)
    return stage


def _curve(stages: list[Stage], figure: str, unit: str) -> str:
    values = (getattr(s, figure) for s in stages)
    return ", ".join(
        f"{s.events:,}: {v:,.0f} {unit}" if v >= 100 else f"{s.events:,}: {v:.3g} {unit}"
        for s, v in zip(stages, values, strict=True)
    )


def _measures(stages: list[Stage]) -> list[Measure]:
    first, last = stages[0], stages[-1]
    settled = next((s for s in stages if s.events >= 1_000_000), stages[min(1, len(stages) - 1)])

    def beside(figure: str, name: str, unit: str, base: Stage, goal: str, limit: float) -> Measure:
        value, baseline = getattr(last, figure), getattr(base, figure)
        ratio = value / baseline
        return Measure(
            name=f"{name}, {last.events:,} events",
            value=value,
            unit=unit,
            baseline=baseline,
            baseline_name=f"at {base.events:,} events",
            goal=goal,
            met=ratio <= limit if "<=" in goal else ratio >= limit,
            note=_curve(stages, figure, unit),
        )

    reads = beside(
        "availability_per_s", "GET availability, 16 connections", "req/s", first,
        "ratio >= 0.9", 0.9,
    )  # fmt: skip
    hello = ", ".join(f"{s.availability_per_s / s.hello_per_s:.2f}" for s in stages)
    return [
        beside("booktable_p50_ms", "BookTable p50", "ms", first, "ratio <= 1.1", 1.1),
        beside("append_p50_ms", "append 1 event p50, 1 writer", "ms", first, "ratio <= 1.1", 1.1),
        Measure(**{**asdict(reads), "note": f"{reads.note}; of hello-world: {hello}"}),
        beside(
            "rebuild_per_s", "rebuild all projections", "events/s", settled, "ratio >= 0.9", 0.9
        ),
        Measure(
            name=f"disk per event, {last.events:,} events",
            value=last.bytes_per_event,
            unit="bytes",
            note=_curve(stages, "bytes_per_event", "bytes") + " (events and streams tables)",
        ),
    ]


PANELS = (
    ("booktable_p50_ms", "BookTable p50 (ms)"),
    ("append_p50_ms", "append 1 event p50 (ms)"),
    ("availability_per_s", "GET availability (req/s)"),
    ("rebuild_per_s", "rebuild (events/s)"),
    ("bytes_per_event", "disk per event (bytes)"),
)


def _chart(stages: list[Stage], path: Path, title: str) -> str | None:
    """Each figure against the events in the store; None if drawn, else why not."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed"
    figure, axes = plt.subplots(1, len(PANELS), figsize=(4 * len(PANELS), 3.6))
    counts = [max(s.events, 1) for s in stages]
    for ax, (field, label) in zip(axes, PANELS, strict=True):
        ax.plot(counts, [getattr(s, field) for s in stages], marker="o")
        if field == "availability_per_s":
            ax.plot(counts, [s.hello_per_s for s in stages], marker=".", ls="--", label="hello")
            ax.legend(fontsize=8)
        ax.set_xscale("log")
        ax.set_ylim(bottom=0)
        ax.set_xlabel("events in the store (log scale)", fontsize=8)
        ax.set_title(label, fontsize=9)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return None


def _write(stages: list[Stage], measures: list[Measure]) -> None:
    at = datetime.now(UTC)
    RESULTS.mkdir(exist_ok=True)
    data, chart = RESULTS / "scale.json", RESULTS / "scale.png"
    report = {
        "at": at.isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "venues": VENUES,
        "stages": [asdict(s) for s in stages],
        "measures": [m.as_dict() for m in measures],
    }
    data.write_text(json.dumps(report, indent=2) + "\n")
    why_not = _chart(stages, chart, f"tablebook scale curve, {at:%Y-%m-%d %H:%M} UTC")
    print(f"scale curve: {data}, chart {chart}" if why_not is None else f"no chart: {why_not}")


def run(url: str, redis_url: str) -> list[Measure]:
    prefix = f"bench:{os.getpid()}:scale:"
    lines = history([_venue_id() for _ in range(VENUES)])
    stages: list[Stage] = []
    try:
        for n, target in enumerate(sorted(STAGES)):
            stages.append(_stage(url, redis_url, prefix, target, lines, n))
    finally:
        asyncio.run(_forget(redis_url, prefix))
    measures = _measures(stages)
    _write(stages, measures)
    return measures
