"""The projector daemon as operators run it (`tablebook projectors run`), with the
notification sender inside it as by default, or apart as `tablebook notifications run`,
while PostgreSQL is restarted (`pg_ctl restart -m fast`), killed (-9 of the postmaster)
and started again, and Redis is killed and comes back empty: neither process exits, and
afterwards every acknowledged booking is in the read models, each applied once (they
equal a rebuild), and the sender still delivers."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import pytest
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

from booking_core.store import ConsistencyToken
from booking_core.store.postgres import PostgresEventStore
from tests.support.models import (
    all_caught_up,
    assert_equal_to_a_rebuild,
    booking_rows,
)
from tests.support.story import Story
from tests.support.throwaway import ThrowawayPostgres, ThrowawayRedis, clients

PREFIX = "tbfault:"
Process = subprocess.Popen[bytes]


def start(
    command: str, database_url: str, redis_url: str, log: IO[bytes], **settings: str
) -> Process:
    """`tablebook {command}` as operators run it, its log lines into `log`."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": PREFIX,
        "LOG_LEVEL": "INFO",
        "NOTIFY_POLL_SECONDS": "0.5",
        # A batch claimed when the server went away is taken again after this lease.
        "NOTIFY_LEASE_SECONDS": "2",
    }
    env.pop("NOTIFY_WITH_PROJECTORS", None)  # the sender runs inside, as by default
    return subprocess.Popen(
        [sys.executable, "-m", "tablebook.cli", *command.split()],
        env={**env, **settings},
        stdout=subprocess.DEVNULL,
        stderr=log,
    )


def _all_running(processes: dict[str, tuple[Process, Path]], after: str) -> None:
    for name, (process, _) in processes.items():
        assert process.poll() is None, f"the {name} exited on {after}"


class Guests:
    """Writes the story's next steps; only what the store acknowledged counts."""

    def __init__(self, store: PostgresEventStore) -> None:
        self.store = store
        # The sender sends what is due by its own clock, and a confirmation is due when
        # its booking was placed: the story's instants follow that clock, moved or not.
        now = datetime.now(UTC)
        self.story = Story(seed=13, days=20, now=now, start=now.date() + timedelta(days=6))
        self.last: ConsistencyToken | None = None

    async def open(self) -> None:
        for writes in self.story.opening():
            self.last = (await self.store.append(writes)).token

    async def book(self, steps: int) -> None:
        for _ in range(steps):
            step = self.story.random_step()
            if step:
                self.last = (await self.store.append(step)).token


async def _caught_up(guests: Guests, pool: AsyncConnectionPool[Any], redis: Redis) -> None:
    assert guests.last is not None
    await all_caught_up(guests.last, pool, redis, PREFIX)


async def _unsent(pool: AsyncConnectionPool[Any]) -> int:
    """Confirmations and the like not yet handled by the sender (reminders wait their
    time)."""
    async with pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT count(*) FROM notifications"
            " WHERE kind <> 'reminder' AND status IN ('pending', 'sending')"
        )
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


@pytest.mark.parametrize(
    "sender_apart",
    [False, True],
    ids=["the sender inside the daemon", "the sender as its own process"],
)
async def test_the_daemon_rides_out_postgres_and_redis_restarts_and_loses_nothing(
    throwaway_postgres: ThrowawayPostgres,
    throwaway_database: str,
    throwaway_redis: ThrowawayRedis,
    tmp_path: Path,
    sender_apart: bool,
) -> None:
    """With `sender_apart`, the daemon runs without its sender
    (`NOTIFY_WITH_PROJECTORS=false`) and `tablebook notifications run` sends, through the
    same restarts and kills."""
    commands = {"daemon": "projectors run"} | (
        {"sender": "notifications run"} if sender_apart else {}
    )
    alone = {"NOTIFY_WITH_PROJECTORS": "false"} if sender_apart else {}
    processes: dict[str, tuple[Process, Path]] = {}
    for name, command in commands.items():
        log_path = tmp_path / f"{name}.log"
        with log_path.open("wb") as log_file:
            settings = alone if name == "daemon" else {}
            process = start(command, throwaway_database, throwaway_redis.url, log_file, **settings)
        processes[name] = (process, log_path)
    daemon_log = processes["daemon"][1]
    async with clients(throwaway_database, throwaway_redis.url) as (pool, redis):
        guests = Guests(PostgresEventStore(pool, throwaway_database))
        try:
            await guests.open()
            await guests.book(40)
            await _caught_up(guests, pool, redis)

            throwaway_postgres.restart_fast()
            await guests.book(40)
            await asyncio.sleep(1.0)
            _all_running(processes, "pg_ctl restart -m fast")

            throwaway_postgres.kill_9()
            await asyncio.sleep(1.5)
            throwaway_postgres.start()
            await guests.book(40)
            await asyncio.sleep(1.0)
            _all_running(processes, "kill -9 of the postmaster")

            throwaway_redis.kill()
            await guests.book(40)
            deadline = time.monotonic() + 20
            while "server=Redis" not in daemon_log.read_text():  # it has met the outage
                assert time.monotonic() < deadline, "the daemon never noticed Redis was gone"
                await asyncio.sleep(0.2)
            throwaway_redis.start()  # empty: the Redis models are built again
            await guests.book(40)
            await _caught_up(guests, pool, redis)
            _all_running(processes, "Redis going away")

            deadline = time.monotonic() + 30
            while await _unsent(pool):
                assert time.monotonic() < deadline, "the sender stopped delivering"
                await asyncio.sleep(0.2)
        finally:
            for process, _ in processes.values():
                process.send_signal(signal.SIGTERM)
            for name, (process, log_path) in processes.items():
                process.wait(timeout=30)
                print(name, log_path.read_text()[-5000:])  # shown when the test fails
        for name, (process, log_path) in processes.items():
            log = log_path.read_text()
            assert process.returncode == 0, f"{name}: {log[-3000:]}"
            assert "Traceback" not in log, name
            assert "server unavailable; retrying" in log, name
            assert "server=PostgreSQL" in log, name
        assert "server=Redis" in daemon_log.read_text()

        story = guests.story
        rows = await booking_rows(pool)
        assert rows == {b: (h.status, h.party_size) for b, h in story.bookings.items()}
        await assert_equal_to_a_rebuild(guests.store, pool, redis, PREFIX)
