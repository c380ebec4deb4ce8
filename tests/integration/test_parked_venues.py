"""A poison event in one venue stops that venue for that projection, not the daemon:
a real `tablebook projectors run` meets an event its projections refuse in venue A,
goes on with venue B, shows the park in `projectors status`, and once the cause is gone
and the venue unparked, applies A's held-back events in order, none lost, none twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import urllib.request
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

from booking_core.codec import EventMetadata, codec
from booking_core.domain.events import TableAdded
from booking_core.domain.streams import streams_of
from booking_core.store import ANY, ConsistencyToken, StreamAppend
from booking_core.store.postgres import PostgresEventStore
from projectors.base import KeySpace
from projectors.parking import list_parks
from tests.support.poison import REDIS_NAME, SQL_NAME, TABLE
from tests.support.throwaway import free_port

ROOT = Path(__file__).resolve().parents[2]
POISON = "POISON-7"


@pytest.fixture
async def fresh(pool: AsyncConnectionPool[Any], clean_store: PostgresEventStore) -> None:
    async with pool.connection() as connection:
        await connection.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (stream_id text PRIMARY KEY, events int NOT NULL)"
        )
        await connection.execute(f"TRUNCATE {TABLE}, projection_parked_venues")
        await connection.execute(
            "DELETE FROM projection_checkpoints WHERE name = ANY(%s)", ([SQL_NAME],)
        )


async def add_table(
    store: PostgresEventStore, venue: str, table_id: str, name: str | None = None
) -> ConsistencyToken:
    added = TableAdded(
        table_id=table_id,
        name=name or f"WINDOW-{table_id}",
        capacity=4,
        added_at=datetime(2026, 11, 25, 9, tzinfo=UTC),
    )
    stream = streams_of(venue).table(table_id)
    meta = EventMetadata(user_id="u-manager", command_id=f"c-{venue}-{table_id}")
    result = await store.append([StreamAppend(stream, ANY, [codec.encode(added, meta)])])
    return result.token


def cli(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    """`tablebook` with the two refusing projections registered."""
    return subprocess.run(
        [sys.executable, "-m", "tests.support.poison", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _scrape(port: int) -> str:
    """The daemon's metrics (`PROJECTOR_METRICS_PORT`)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return str(response.read().decode())


def start_daemon(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.poison", "projectors", "run", SQL_NAME, REDIS_NAME],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def counts(pool: AsyncConnectionPool[Any]) -> dict[str, int]:
    async with pool.connection() as connection:
        cursor = await connection.execute(f"SELECT stream_id, events FROM {TABLE}")
        return {row[0]: row[1] for row in await cursor.fetchall()}


async def marked(redis: Redis, redis_prefix: str) -> set[str]:
    keys = KeySpace(redis_prefix, REDIS_NAME)
    found = set()
    async for key in redis.scan_iter(match=keys.key("stream", "*")):
        found.add(key.decode().removeprefix(keys.key("stream", "")))
    return found


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    for _ in range(600):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within 30 s: {what}")


def table(venue: str, table_id: str) -> str:
    return streams_of(venue).table(table_id)


async def test_a_poison_event_parks_its_venue_and_an_unpark_resumes_it(
    fresh: None,
    clean_store: PostgresEventStore,
    pool: AsyncConnectionPool[Any],
    redis: Redis,
    redis_prefix: str,
    database_url: str,
    redis_url: str,
    tmp_path: Path,
) -> None:
    store = clean_store
    poison_file = tmp_path / "poison"
    poison_file.write_text(POISON)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": redis_prefix,
        "LOG_LEVEL": "WARNING",
        "POISON_FILE": str(poison_file),
        "PROJECTOR_METRICS_PORT": str(free_port()),
    }
    await add_table(store, "ven_a", "T1")
    await add_table(store, "ven_a", "T2")
    poison = await add_table(store, "ven_a", "P", POISON)
    for table_id in ("T1", "T2", "T3"):
        await add_table(store, "ven_b", table_id)
    await add_table(store, "default", "T1")

    daemon = start_daemon(env)
    try:
        await add_table(store, "ven_a", "T3")  # after the poison: held back
        await add_table(store, "ven_b", "T4")
        b_tables = {table("ven_b", t) for t in ("T1", "T2", "T3", "T4")}

        async def b_caught_up() -> bool:
            found = await counts(pool)
            return b_tables <= set(found) and b_tables <= await marked(redis, redis_prefix)

        await eventually(b_caught_up, "venue B's events applied")
        held = {table("ven_a", "T1"): 1, table("ven_a", "T2"): 1}
        others = dict.fromkeys(b_tables, 1) | {table("default", "T1"): 1}
        assert await counts(pool) == held | others
        assert await marked(redis, redis_prefix) == set(held) | set(others)

        async with pool.connection() as connection:
            parks = await list_parks(connection)
        assert [(p.projection, p.venue_id, p.token, p.error_class) for p in parks] == [
            (SQL_NAME, "ven_a", poison, "Poisoned"),
            (REDIS_NAME, "ven_a", poison, "Poisoned"),
        ]
        assert all(p.error_message == f"table name {POISON} is refused" for p in parks)
        metrics = await asyncio.to_thread(_scrape, int(env["PROJECTOR_METRICS_PORT"]))
        for name in (SQL_NAME, REDIS_NAME):  # the daemon counted each park
            assert f'tablebook_projector_parks_total{{projection="{name}"}} 1.0' in metrics
        status = cli(env, "projectors", "status")
        assert status.returncode == 0, status.stderr
        parked_lines = [line for line in status.stdout.splitlines() if "ven_a" in line]
        assert len(parked_lines) == 2
        assert all(str(poison) in line and "Poisoned" in line for line in parked_lines)

        not_parked = cli(env, "projectors", "unpark", SQL_NAME, "--venue", "ven_b")
        assert not_parked.returncode == 1
        assert "venue ven_b is not parked for poison_counts" in not_parked.stderr

        poison_file.write_text("")  # the cause removed
        for name in (SQL_NAME, REDIS_NAME):
            unparked = cli(env, "projectors", "unpark", name, "--venue", "ven_a")
            assert unparked.returncode == 0, unparked.stderr
        await add_table(store, "ven_a", "T4")  # after the unpark, behind the held-back ones

        every = {table("ven_a", t) for t in ("T1", "T2", "P", "T3", "T4")} | set(others)

        async def resumed() -> bool:
            async with pool.connection() as connection:
                left = await list_parks(connection)
            found = await counts(pool)
            return not left and set(found) == every == await marked(redis, redis_prefix)

        await eventually(resumed, "venue A resumed")
        await asyncio.sleep(0.5)  # a round more: nothing is applied again
        assert await counts(pool) == dict.fromkeys(every, 1)
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.to_thread(daemon.communicate, timeout=30)
    assert daemon.returncode == 0, stderr.decode()
    lines = Counter(
        line.split(" projection=")[1].split()[0]
        for line in stderr.decode().splitlines()
        if 'msg="venue parked"' in line
    )
    assert lines == {SQL_NAME: 1, REDIS_NAME: 1}
