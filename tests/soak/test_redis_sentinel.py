"""The API and the projector daemon on a Sentinel-managed Redis while its master is
killed (-9) or frozen (SIGSTOP, as a machine cut off, then SIGCONT: back as a master that
is one no longer), and then while the new master loses the read models: under a steady read
load on a table's availability, and bookings going on, every answer is a 2xx or a 503
with `Retry-After`; every 2xx agrees with the event store (a table booked before the read
was sent is never offered as free, and no table is booked that the store has not
booked); and answers come back on their own, with nothing restarted.

Reads that carry the last booking's `X-Consistency-Token` must show every booking made
so far; reads without it must show at least those made before the master was killed
(replicated then), and may trail the others, as any read without the token may.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import itertools
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from psycopg_pool import AsyncConnectionPool

from api.accounts import PasswordHasher, UserStore
from booking_core.store.postgres import PostgresEventStore
from tablebook.redis_url import open_redis
from tests.support.scope import to_test_venue
from tests.support.sentinel import ThrowawaySentinel, missing_sentinel
from tests.support.throwaway import free_port
from tests.support.venue import TABLES, add_tables, days_ahead, open_venue

pytestmark = pytest.mark.slow

HOST_EMAIL = "maitre-d@example.com"
HOST_PASSWORD = "a-long-password-1"
TOKEN = "X-Consistency-Token"
EXTRA_TABLES = [f"T{n}" for n in range(4, 13)]
BOOKED_FIRST = ["T1", "T2", "T3", "T4"]
AT = "19:00"
RECOVERY_SECONDS = 30.0


@pytest.fixture
def sentinel() -> Iterator[ThrowawaySentinel]:
    if (why := missing_sentinel()) is not None:
        pytest.skip(f"the Sentinel soak test owns its servers: {why}")
    cluster = ThrowawaySentinel()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


@contextlib.contextmanager
def running(command: list[str], env: dict[str, str], log: Path) -> Iterator[None]:
    """`tablebook COMMAND` as operators run it, in a process of its own; it must still
    be running at the end."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tablebook.cli", *command],
            env={**os.environ, "LOG_LEVEL": "INFO", **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield
        assert process.poll() is None, f"{command} exited:\n{log.read_text()[-3000:]}"
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextlib.asynccontextmanager
async def served(env: dict[str, str], log: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The API (`tablebook serve`) on a free port, and a client of it."""
    port = free_port()
    with running(["serve", "--port", str(port)], env, log):
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}",
            timeout=60,
            event_hooks={"request": [to_test_venue], "response": []},
        ) as client:
            deadline = time.monotonic() + 30
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get("/health/live")).is_success:
                        break
                assert time.monotonic() < deadline, f"the API did not start; see {log}"
                await asyncio.sleep(0.1)
            yield client


@dataclass
class Answer:
    sent: float
    done: float
    status: int
    with_token: bool
    acked_before: frozenset[str]
    booked: frozenset[str] = frozenset()
    free: frozenset[str] = frozenset()
    retry_after: str | None = None
    problem: str = ""


@dataclass
class Load:
    """Bookings and reads of one start time, with what each client saw."""

    client: httpx.AsyncClient
    day: str
    headers: dict[str, str]
    acked: dict[str, str] = field(default_factory=dict)  # table -> consistency token
    answers: list[Answer] = field(default_factory=list)
    other: list[str] = field(default_factory=list)  # anything but 2xx and 503

    async def book(self, table_id: str) -> None:
        """Book `table_id` at AT, again with the same key until the API acknowledges it."""
        body = {
            "date": self.day,
            "time": AT,
            "party_size": 2,
            "guest_name": f"Guest at {table_id}",
            "table_id": table_id,
        }
        headers = {**self.headers, "Idempotency-Key": f"book-{table_id}-{uuid.uuid4().hex}"}
        while True:
            response = await self.client.post("/api/v1/bookings/", json=body, headers=headers)
            if response.is_success:
                self.acked[table_id] = response.headers[TOKEN]
                return
            if response.status_code != 503:
                self.other.append(f"POST {table_id}: {response.status_code} {response.text}")
                return
            await asyncio.sleep(0.2)

    async def read(self, with_token: bool) -> Answer:
        acked = frozenset(self.acked)
        headers: dict[str, str] = {}
        if with_token and self.acked:
            headers[TOKEN] = max(self.acked.values(), key=_token_order)
        sent = time.monotonic()
        response = await self.client.get(
            "/api/v1/bookings/tables",
            params={"date": self.day, "time": AT, "party_size": 2},
            headers=headers,
        )
        answer = Answer(sent, time.monotonic(), response.status_code, with_token, acked)
        if response.is_success:
            tables = response.json()["tables"]
            answer.booked = frozenset(t["table_id"] for t in tables if t["status"] == "booked")
            answer.free = frozenset(t["table_id"] for t in tables if t["status"] == "available")
        elif response.status_code == 503:
            answer.retry_after = response.headers.get("retry-after")
            answer.problem = response.json()["type"].rpartition("/")[2]
        else:
            self.other.append(f"GET: {response.status_code} {response.text}")
        self.answers.append(answer)
        return answer

    async def reading(self, with_token: bool, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.read(with_token)
            await asyncio.sleep(0.02)

    async def booking(self, tables: list[str], stop: asyncio.Event, delay: float) -> None:
        await asyncio.sleep(delay)
        for table_id in tables:
            if stop.is_set():
                return
            await self.book(table_id)
            await asyncio.sleep(0.7)


def _token_order(token: str) -> tuple[int, int]:
    tx, position = token.split("-")
    return int(tx), int(position)


async def _booked_in_store(pool: AsyncConnectionPool[Any], day: str) -> set[str]:
    async with pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT stream_id FROM events WHERE type = 'TableReserved' AND stream_id LIKE %s",
            (f"%table-%@{day}",),
        )
        rows = await cursor.fetchall()
    return {m.group(1) for (s,) in rows if (m := re.search(r"table-(.+)@", s))}


async def _until_2xx(load: Load, with_token: bool, timeout: float) -> Answer:
    deadline = time.monotonic() + timeout
    while True:
        answer = await load.read(with_token)
        if 200 <= answer.status < 300:
            return answer
        assert time.monotonic() < deadline, f"no 2xx within {timeout} s"
        await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def _running(
    load: Load, tables: list[str], booking_delay: float = 0.0
) -> AsyncIterator[asyncio.Event]:
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(load.reading(True, stop)),
        asyncio.create_task(load.reading(True, stop)),
        asyncio.create_task(load.reading(False, stop)),
        asyncio.create_task(load.booking(tables, stop, booking_delay)),
    ]
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.gather(*tasks)


def _agrees(answer: Answer, in_store: set[str], all_tables: set[str]) -> bool:
    """Every table booked before the read was sent (or, without the token, before the
    master was killed) is booked, every other one the store has not booked is free."""
    must_be_booked = answer.acked_before if answer.with_token else frozenset(BOOKED_FIRST)
    return (
        must_be_booked <= answer.booked <= in_store
        and answer.booked | answer.free == all_tables
        and not answer.booked & answer.free
    )


def _longest_without_2xx(answers: list[Answer], since: float, until: float) -> float:
    """The longest time from `since` to `until` in which no read was answered with 2xx."""
    done = sorted(a.done for a in answers if a.status < 300 and since <= a.done < until)
    edges = [since, *done, until]
    return max(b - a for a, b in itertools.pairwise(edges))


def _window(answers: list[Answer], since: float, until: float) -> tuple[float, float]:
    """Seconds from `since` to the last 503 of the reads sent after it and answered
    before `until`, and to the first 2xx after that."""
    after = [a for a in answers if since <= a.sent and a.done < until]
    refused = [a.done for a in after if a.status == 503]
    last_refused = max(refused, default=since)
    first_ok = min(
        (a.done for a in after if a.status < 300 and a.done >= last_refused), default=float("inf")
    )
    return last_refused - since, first_ok - since


@pytest.mark.parametrize("how", ["killed", "frozen"])
async def test_losing_the_redis_master_gives_503s_then_right_answers_with_no_restart(
    how: str,
    clean_store: PostgresEventStore,
    pool: AsyncConnectionPool[Any],
    database_url: str,
    sentinel: ThrowawaySentinel,
    tmp_path: Path,
) -> None:
    prefix = f"tbsoak:{uuid.uuid4().hex[:8]}:"
    now = dt.datetime.now(dt.UTC)
    await open_venue(clean_store, now, "Europe/London")
    await add_tables(clean_store, now, {t: f"ROOM-{t}" for t in EXTRA_TABLES}, capacity=4)
    hashed = await PasswordHasher(4).hash(HOST_PASSWORD)
    await UserStore(pool).upsert_admin(
        email=HOST_EMAIL, password_hash=hashed, full_name="Grace Hopper"
    )
    day = days_ahead(now, 5).isoformat()
    all_tables = {*TABLES, *EXTRA_TABLES}

    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": sentinel.url,
        "REDIS_PREFIX": prefix,
        "BCRYPT_ROUNDS": "4",
        "NOTIFY_WITH_PROJECTORS": "false",
    }
    with running(["projectors", "run"], env, tmp_path / "daemon.log"):
        async with served(env, tmp_path / "api.log") as client:
            signed_in = await client.post(
                "/api/v1/auth/token", data={"username": HOST_EMAIL, "password": HOST_PASSWORD}
            )
            assert signed_in.status_code == 200, signed_in.text
            load = Load(
                client, day, {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
            )
            for table_id in BOOKED_FIRST:
                await load.book(table_id)
            first = await _until_2xx(load, True, RECOVERY_SECONDS)
            assert first.booked == set(BOOKED_FIRST)
            sentinel.in_sync()  # what was booked so far is on the replica too

            later = sorted(all_tables - set(BOOKED_FIRST))
            async with _running(load, later[:5]):
                await asyncio.sleep(2)
                killed_at = time.monotonic()
                # In threads: the load goes on in this event loop meanwhile.
                lose = sentinel.kill_master if how == "killed" else sentinel.freeze_master
                old = await asyncio.to_thread(lose)
                new = await asyncio.to_thread(sentinel.wait_for_new_master, old)
                promoted_at = time.monotonic()
                if how == "frozen":
                    # Past the clients' socket timeouts (5 s for the API, 10 s for the
                    # daemon), then back as a master that is one no longer: READONLY.
                    await asyncio.sleep(10)
                    sentinel.thaw(old)
                await asyncio.sleep(8)
            recovered = await _until_2xx(load, True, RECOVERY_SECONDS)
            assert recovered.booked == set(load.acked)

            # The new master loses every read model (as one restarted empty would): the
            # daemon builds them again; meanwhile reads are refused, never guessed.
            # No booking wakes the daemon for a while: it finds the loss on its own.
            async with _running(load, later[5:], booking_delay=2.0):
                await asyncio.sleep(0.5)
                flushed_at = time.monotonic()
                async with open_redis(sentinel.url) as redis:
                    await redis.flushdb()
                await asyncio.sleep(8)
            rebuilt = await _until_2xx(load, True, RECOVERY_SECONDS)
            assert rebuilt.booked == set(load.acked)

    in_store = await _booked_in_store(pool, day)
    assert not load.other, load.other[:5]
    assert set(load.acked) == in_store == all_tables
    statuses = [a.status for a in load.answers]
    refused = [a for a in load.answers if a.status == 503]
    assert all(a.retry_after and int(a.retry_after) > 0 for a in refused)
    wrong = [a for a in load.answers if a.status < 300 and not _agrees(a, in_store, all_tables)]
    assert not wrong, f"{len(wrong)} wrong answers, e.g. {wrong[:3]}"

    failover = promoted_at - killed_at
    last_503, first_ok = _window(load.answers, killed_at, flushed_at)
    rebuild_503, rebuild_ok = _window(load.answers, flushed_at, float("inf"))
    ok = sum(1 for s in statuses if s < 300)
    slowest = max(a.done - a.sent for a in load.answers if a.sent >= killed_at)
    stalled = _longest_without_2xx(load.answers, killed_at, promoted_at + 8)
    print(
        f"\nSentinel failover, master {how}: {old} -> {new} in {failover:.1f} s;"
        f" reads refused until {last_503:.1f} s after the kill, 2xx again at {first_ok:.1f} s;"
        f" after losing the models: refused until {rebuild_503:.1f} s, 2xx at {rebuild_ok:.1f} s;"
        f" {len(statuses)} reads: {ok} 2xx, {len(refused)} 503"
        f" ({dict(collections.Counter(a.problem for a in refused))}), 0 wrong,"
        f" the slowest {slowest:.1f} s, {stalled:.1f} s at most without a 2xx;"
        f" {len(load.acked)} bookings acknowledged, all in the store"
    )
    assert first_ok < RECOVERY_SECONDS
    assert stalled < RECOVERY_SECONDS
    assert rebuild_ok < RECOVERY_SECONDS
