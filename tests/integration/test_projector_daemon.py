"""The projector daemon as operators run it: a real process, killed with -9 at random
moments while a writer appends, restarted, and finally compared with a rebuild."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
from typing import Any

from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

import projectors.registry as registry
from booking_core.store.postgres import PostgresEventStore
from read_models.consistency import wait_for_projections
from tests.support.models import assert_equal_to_a_rebuild, booking_rows, clear_read_models
from tests.support.story import Story

SQL_NAMES = [p.name for p in registry.SQL_PROJECTIONS]
REDIS_NAMES = [p.name for p in registry.REDIS_PROJECTIONS]


def start_daemon(database_url: str, redis_url: str, prefix: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": prefix,
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tablebook.cli", "projectors", "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def test_kill_9_at_random_moments_loses_nothing_and_applies_nothing_twice(
    clean_store: PostgresEventStore,
    pool: AsyncConnectionPool[Any],
    redis: Redis,
    redis_prefix: str,
    database_url: str,
    redis_url: str,
) -> None:
    store = clean_store
    await clear_read_models(pool, redis, redis_prefix)
    story = Story(seed=2026, days=30)
    for writes in story.opening():
        await store.append(writes)
    rng = random.Random(9)
    writing = True
    enough = asyncio.Event()
    appended = 0
    last = await store.head()

    async def writer() -> None:
        nonlocal appended, last
        while writing:
            step = story.random_step()
            if step:
                last = max(last, (await store.append(step)).token)
                appended += sum(len(s.events) for s in step)
                if appended > 1000:
                    enough.set()
            await asyncio.sleep(0)

    write_task = asyncio.create_task(writer())
    daemon = start_daemon(database_url, redis_url, redis_prefix)
    kills = 0
    try:
        for _ in range(4):
            await asyncio.sleep(rng.uniform(0.5, 2.0))
            daemon.kill()
            daemon.wait(timeout=10)
            kills += 1
            await asyncio.sleep(rng.uniform(0.0, 0.3))
            daemon = start_daemon(database_url, redis_url, redis_prefix)
        # Keep writing until the run means something, however slow the machine is.
        await asyncio.sleep(1.0)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(enough.wait(), 60)
        writing = False
        await write_task
        # The last write's own token: head() may still hold back events behind a
        # transaction the daemon has open at this very moment.
        await wait_for_projections(
            last,
            pool=pool,
            redis=redis,
            redis_prefix=redis_prefix,
            sql=SQL_NAMES,
            redis_names=REDIS_NAMES,
            timeout=60,
        )
    finally:
        writing = False
        daemon.send_signal(signal.SIGTERM)
        _, errors = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, errors.decode()[-2000:]
    assert kills == 4
    assert appended > 1000, f"only {appended} events: the writer was too slow to mean much"

    rows = await booking_rows(pool)
    assert rows == {b: (h.status, h.party_size) for b, h in story.bookings.items()}
    await assert_equal_to_a_rebuild(store, pool, redis, redis_prefix)
