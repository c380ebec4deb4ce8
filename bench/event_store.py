"""Event-store speed: appends against pgbench's bare INSERT, read_all against raw COPY."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from bench.harness import Measure, percentile
from booking_core.codec import Event, EventCodec
from booking_core.store import NO_STREAM, NewEvent, StreamAppend
from booking_core.store.postgres import PostgresEventStore
from tablebook.database import open_pool

WRITERS = 4
SECONDS = 8.0
READ_EVENTS = 200_000


class TableReserved(Event, frozen=True, tag="TableReserved"):
    booking_id: str
    table_id: str
    service_date: str
    start: str
    end: str
    party_size: int


codec = EventCodec([TableReserved])
SAMPLE = TableReserved(
    booking_id="b-0001",
    table_id="WINDOW-4",
    service_date="2026-12-24",
    start="2026-12-24T19:00:00Z",
    end="2026-12-24T21:00:00Z",
    party_size=4,
)


def _pgbench_env(url: str) -> tuple[list[str], dict[str, str]]:
    params = conninfo_to_dict(url)
    args = [
        "-h", str(params.get("host", "127.0.0.1")),
        "-p", str(params.get("port", 5432)),
        "-U", str(params.get("user", "postgres")),
        str(params.get("dbname")),
    ]  # fmt: skip
    env = dict(os.environ)
    if params.get("password"):
        env["PGPASSWORD"] = str(params["password"])
    return args, env


@dataclass(frozen=True)
class PgbenchRun:
    tps: float
    p50_ms: float
    p99_ms: float


def _pgbench(url: str, clients: int, seconds: float, script: str) -> PgbenchRun:
    """pgbench running `script` once per transaction: its rate and latencies."""
    connection, env = _pgbench_env(url)
    with tempfile.TemporaryDirectory(prefix="pgbench-") as folder:
        script_file = Path(folder) / "script.sql"
        script_file.write_text(script)
        result = subprocess.run(
            [
                "pgbench", "-n", "-M", "prepared", "-c", str(clients), "-j", str(min(clients, 2)),
                "-T", str(int(seconds)), "-f", str(script_file), "-l",
                f"--log-prefix={folder}/log", *connection,
            ],
            capture_output=True, text=True, env=env, check=True,
        )  # fmt: skip
        latencies = [
            int(line.split()[2]) / 1000
            for log in Path(folder).glob("log.*")
            for line in log.read_text().splitlines()
        ]
    found = re.search(r"tps = ([\d.]+)", result.stdout)
    if not found:
        raise RuntimeError(f"pgbench printed no tps:\n{result.stdout}\n{result.stderr}")
    return PgbenchRun(
        float(found.group(1)), percentile(latencies, 0.5), percentile(latencies, 0.99)
    )


def pgbench_insert(url: str, clients: int, seconds: float, *, notify: bool = False) -> PgbenchRun:
    """pgbench doing one bare INSERT into `events` per transaction: its rate and latencies.

    With `notify`, the same INSERT also calls pg_notify in its statement: the ceiling for
    any append that notifies inside its transaction, since PostgreSQL serialises the
    commits of notifying transactions.
    """
    payload = codec.encode(SAMPLE).data.decode().replace("'", "''")
    returning = " RETURNING pg_notify('tablebook_events', position::text)" if notify else ""
    script = (
        "INSERT INTO events (stream_id, version, type, data)"
        f" VALUES (gen_random_uuid()::text, 1, 'TableReserved', '{payload}'){returning};\n"
    )
    return _pgbench(url, clients, seconds, script)


_QUIET_APPEND = "tb_append_without_notify"
_NOTIFY_LINE = re.compile(r"^\s*PERFORM pg_notify\('tablebook_events'.*$", re.MULTILINE)


def _quiet_append(connection: psycopg.Connection[Any]) -> None:
    """A copy of the store's append function without its `pg_notify`, to measure what
    waking the listeners inside the append's transaction costs. Bench only."""
    row = connection.execute(
        "SELECT pg_get_functiondef(p.oid) FROM pg_proc p"
        " WHERE p.proname = 'tb_append' ORDER BY p.pronargs DESC LIMIT 1"
    ).fetchone()
    if row is None or len(_NOTIFY_LINE.findall(row[0])) != 1:
        raise RuntimeError("tb_append has no single pg_notify line to leave out")
    named = "FUNCTION public.tb_append("
    if row[0].count(named) != 1:  # a copy under the same name would replace the original
        raise RuntimeError(f"tb_append's definition does not start {named!r}")
    source = _NOTIFY_LINE.sub("", row[0]).replace(named, f"FUNCTION public.{_QUIET_APPEND}(")
    connection.execute(source.encode())


def pgbench_append(url: str, clients: int, seconds: float, *, notify: bool = True) -> PgbenchRun:
    """pgbench calling the store's append function, one event to a fresh stream per
    transaction, as `append_rate` does but with no Python client: what the database
    itself allows. Without `notify`, a copy of the function with no `pg_notify`."""
    payload = codec.encode(SAMPLE).data.decode().replace("'", "''")
    function = "tb_append" if notify else _QUIET_APPEND
    script = (
        f"SELECT {function}(ARRAY['table-' || gen_random_uuid()::text], ARRAY[0::bigint],"
        f" ARRAY[1], ARRAY['TableReserved'], ARRAY[1::smallint], ARRAY['{payload}'::jsonb],"
        " ARRAY['{}'::jsonb]);\n"
    )
    if not notify:
        with psycopg.connect(url, autocommit=True) as connection:
            _quiet_append(connection)
    try:
        return _pgbench(url, clients, seconds, script)
    finally:
        if not notify:
            with psycopg.connect(url, autocommit=True) as connection:
                connection.execute(f"DROP FUNCTION IF EXISTS {_QUIET_APPEND}")


def pgbench_insert_rate(url: str, clients: int, seconds: float, *, notify: bool = False) -> float:
    """Transactions per second of `pgbench_insert`."""
    return pgbench_insert(url, clients, seconds, notify=notify).tps


async def append_rate(
    url: str, writers: int, seconds: float, event: Callable[[str], NewEvent] | None = None
) -> tuple[float, list[float]]:
    """Appends per second of one event to a fresh stream `table-{id}`, `writers` at a
    time: `event(id)`, or by default a sample no projection reads."""
    pool = await open_pool(url, min_size=writers, max_size=writers)
    store = PostgresEventStore(pool, url)
    sample = codec.encode(SAMPLE)
    make = event or (lambda _: sample)
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def writer() -> int:
        count = 0
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            table_id = uuid.uuid4().hex
            await store.append([StreamAppend(f"table-{table_id}", NO_STREAM, [make(table_id)])])
            latencies.append(time.perf_counter() - began)
            count += 1
        return count

    began = time.perf_counter()
    counts = await asyncio.gather(*(writer() for _ in range(writers)))
    elapsed = time.perf_counter() - began
    await pool.close()
    return sum(counts) / elapsed, latencies


def _empty(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("TRUNCATE events, streams, idempotency_keys")
        connection.execute("VACUUM ANALYZE events, streams")


def _fill(url: str, count: int) -> None:
    _empty(url)
    data = codec.encode(SAMPLE).data.decode()
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            "INSERT INTO events (stream_id, version, type, data)"
            " SELECT 'table-' || (n / 50), n %% 50 + 1, 'TableReserved', %s::jsonb"
            " FROM generate_series(0, %s - 1) AS n",
            (data, count),
        )
        connection.execute("VACUUM ANALYZE events")


def copy_rate(url: str) -> float:
    """Rows per second of a raw COPY of the same columns `read_all` selects."""
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        began = time.perf_counter()
        rows = 0
        with cursor.copy(
            "COPY (SELECT position, tx, stream_id, version, type, schema_version, data,"
            " metadata, recorded_at FROM events ORDER BY tx, position) TO STDOUT"
        ) as copy:
            for block in copy:
                rows += bytes(block).count(b"\n")
        return rows / (time.perf_counter() - began)


async def read_all_rate(url: str, page: int = 5000) -> float:
    """Events per second of read_all with each event decoded into its Struct."""
    pool = await open_pool(url, min_size=1, max_size=2)
    store = PostgresEventStore(pool, url)
    began = time.perf_counter()
    decoded = 0
    token = None
    while True:
        batch = await store.read_all(token, page) if token else await store.read_all(limit=page)
        if not batch:
            break
        for record in batch:
            codec.decode(record)
        decoded += len(batch)
        token = batch[-1].token
    elapsed = time.perf_counter() - began
    await pool.close()
    return decoded / elapsed


def run(url: str, _redis_url: str) -> list[Measure]:
    # Each run starts on an empty table: the rate of an INSERT falls as the table and its
    # indexes grow (a third of it by 700,000 events here), so runs one after another on
    # one table would compare unlike things.
    _empty(url)
    baseline = pgbench_insert_rate(url, WRITERS, SECONDS)
    _empty(url)
    ceiling = pgbench_insert_rate(url, WRITERS, SECONDS, notify=True)
    _empty(url)
    rate, latencies = asyncio.run(append_rate(url, WRITERS, SECONDS))
    _empty(url)
    function = pgbench_append(url, WRITERS, SECONDS)
    _empty(url)
    quiet = pgbench_append(url, WRITERS, SECONDS, notify=False)
    latencies.sort()
    p99 = latencies[int(0.99 * (len(latencies) - 1))] * 1000
    _fill(url, READ_EVENTS)
    copy = copy_rate(url)
    read = asyncio.run(read_all_rate(url))

    def beside_insert(name: str, value: float, note: str) -> Measure:
        return Measure(
            name=name,
            value=value,
            unit="tx/s",
            baseline=baseline,
            baseline_name="pgbench bare INSERT",
            note=note,
        )

    return [
        Measure(
            name=f"append 1 event, fresh stream, {WRITERS} writers",
            value=rate,
            unit="appends/s",
            baseline=baseline,
            baseline_name="pgbench bare INSERT",
            goal="ratio >= 0.6",
            met=rate / baseline >= 0.6,
            note=f"append p99 {p99:.1f} ms",
        ),
        beside_insert(
            f"append function through pgbench, {WRITERS} clients",
            function.tps,
            f"the same append with no Python client; p99 {function.p99_ms:.1f} ms",
        ),
        beside_insert(
            f"append function without pg_notify, pgbench, {WRITERS} clients",
            quiet.tps,
            "a copy of the function that wakes no listener: what the wake-up costs",
        ),
        beside_insert(
            f"pgbench INSERT + pg_notify, {WRITERS} clients",
            ceiling,
            "the ceiling of any append that notifies inside its transaction",
        ),
        Measure(
            name=f"read_all + decode, {READ_EVENTS:,} events",
            value=read,
            unit="events/s",
            baseline=copy,
            baseline_name="raw COPY TO STDOUT",
            goal=">= 50,000 events/s",
            met=read >= 50_000,
        ),
    ]
