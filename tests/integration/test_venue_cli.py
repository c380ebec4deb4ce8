"""`tablebook venues create` and `venues list`, as an operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

import projectors.registry as registry
from booking_core.store.postgres import PostgresEventStore
from projectors.runner import SqlProjectionRunner
from projectors.venues import VenuesProjection
from tests.support.models import clear_read_models

TABLEBOOK = [sys.executable, "-m", "tablebook.cli"]


def tablebook(
    database_url: str, redis_url: str, cwd: Path, *argv: str
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url}
    return subprocess.run(
        [*TABLEBOOK, *argv], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


async def test_the_first_venue_created_is_the_default_one_and_both_are_listed(
    clean_store: PostgresEventStore,
    pool: AsyncConnectionPool[Any],
    redis: Redis,
    redis_prefix: str,
    database_url: str,
    redis_url: str,
    tmp_path: Path,
) -> None:
    await clear_read_models(pool, redis, redis_prefix)

    first = tablebook(
        database_url,
        redis_url,
        tmp_path,
        *("venues", "create", "--name", "The Harbour Kitchen", "--slug", "harbour-kitchen"),
        *("--time-zone", "Europe/Lisbon", "--address", "1 Quay Street"),
    )
    second = tablebook(
        database_url,
        redis_url,
        tmp_path,
        *("venues", "create", "--name", "Tapas Corner", "--slug", "tapas"),
        *("--time-zone", "Europe/Madrid"),
    )
    taken = tablebook(
        database_url,
        redis_url,
        tmp_path,
        *("venues", "create", "--name", "Copycat", "--slug", "tapas", "--time-zone", "UTC"),
    )

    assert first.returncode == 0, first.stderr
    assert (
        first.stdout
        == "default\tharbour-kitchen\tThe Harbour Kitchen\tEurope/Lisbon\t1 Quay Street\n"
    )
    assert second.returncode == 0, second.stderr
    tapas_id = second.stdout.split("\t")[0]
    assert tapas_id.startswith("ven_")
    assert taken.returncode == 2
    assert taken.stderr == "tablebook: another venue already has the slug 'tapas'\n"

    await SqlProjectionRunner(VenuesProjection(), clean_store, registry.codec, pool).catch_up()
    listed = tablebook(database_url, redis_url, tmp_path, "venues", "list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == [
        f"{tapas_id}\ttapas\tTapas Corner\tEurope/Madrid\t",
        "default\tharbour-kitchen\tThe Harbour Kitchen\tEurope/Lisbon\t1 Quay Street",
    ]
