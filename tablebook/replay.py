"""`tablebook replay`: build every read model as it stood at an instant, list and drop
replays. The work is in `projectors.replay`; this is the command's side (connections,
progress bar, what is printed)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any

from psycopg_pool import AsyncConnectionPool
from rich.console import Console
from rich.table import Table

import projectors.registry as registry
from booking_core.store.venue_filter import in_venue
from projectors.replay import (
    Replay,
    build_replay,
    drop_replay,
    list_replays,
    replay_prefix,
    replay_schema,
)
from tablebook.progress import progress_bar, stderr_is_terminal
from tablebook.projector_commands import backends
from tablebook.venue_lookup import resolve_venue

__all__ = ["drop", "replay", "show_replays"]


_COUNT_UNTIL = f"SELECT count(*) FROM events WHERE recorded_at <= %(as_of)s AND {in_venue()}"  # noqa: S608 - built from constants


async def _count_until(pool: AsyncConnectionPool[Any], as_of: datetime, venue: str | None) -> int:
    async with pool.connection() as connection:
        cursor = await connection.execute(_COUNT_UNTIL, {"as_of": as_of, "venue": venue})
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


def _instant(moment: datetime | None) -> str:
    if moment is None:
        return "incomplete"
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


async def replay(
    database_url: str,
    redis_url: str,
    redis_prefix: str,
    *,
    name: str,
    as_of: datetime,
    venue: str | None = None,
) -> Replay:
    """Build the replay; of one venue only when `venue` (an id or a slug; ValueError if
    it names none) is given."""
    async with backends(database_url, redis_url, redis_prefix) as b:
        venue_id = await resolve_venue(b.pool, venue) if venue is not None else None
        total = await _count_until(b.pool, as_of, venue_id) if stderr_is_terminal() else None
        with progress_bar(f"replaying up to {_instant(as_of)}", total) as advance:
            built = await build_replay(
                name=name,
                as_of=as_of,
                store=b.store,
                codec=registry.codec,
                pool=b.pool,
                redis=b.redis,
                redis_prefix=redis_prefix,
                sql_projections=registry.SQL_PROJECTIONS,
                redis_projections=registry.REDIS_PROJECTIONS,
                progress=advance,
                venue=venue_id,
            )
    of_venue = "" if venue_id is None else f" of venue {venue_id}"
    print(
        f"replay {name}: {built.events} events{of_venue} up to {_instant(as_of)};"
        f" SQL schema {replay_schema(name)}, Redis prefix {replay_prefix(redis_prefix, name)}"
    )
    return built


async def show_replays(database_url: str, redis_url: str, redis_prefix: str) -> None:
    async with backends(database_url, redis_url, redis_prefix) as b:
        replays = await list_replays(b.pool)
    table = Table("name", "as of", "built at", "events")
    for found in replays:
        table.add_row(
            found.name, _instant(found.as_of), _instant(found.built_at), str(found.events)
        )
    Console(file=sys.stdout).print(table)


async def drop(database_url: str, redis_url: str, redis_prefix: str, name: str) -> bool:
    async with backends(database_url, redis_url, redis_prefix) as b:
        dropped = await drop_replay(b.pool, b.redis, redis_prefix, name)
    if dropped:
        print(f"dropped replay {name}")
    else:
        print(f"tablebook: no replay named {name!r}", file=sys.stderr)
    return dropped
