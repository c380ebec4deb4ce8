"""How far each projection stands behind the event log, in events and in seconds.

A projection is behind by the events past its checkpoint; its lag in seconds is the age
of the oldest of them, measured on PostgreSQL's clock (`now() - recorded_at`, both the
server's): an idle log with nothing past the checkpoint is 0 s behind however long ago
its last event was, and a clock moved on the application's side (faketime in tests)
does not make a caught-up projection look late.

`tablebook projectors status`, `GET /metrics` (API and daemon) and `/health/ready` all
read it from here. SQL checkpoints are rows of `projection_checkpoints`; a Redis model's
is a key beside it, and a missing key (never built, or Redis lost it) stands at the
origin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

from booking_core.store import ORIGIN, ConsistencyToken
from read_models.model_keys import redis_checkpoint_key

__all__ = ["Followed", "Standing", "lag_metrics", "standings"]

Kind = Literal["sql", "redis"]

_LAG = """
SELECT c.name, b.behind, COALESCE(EXTRACT(EPOCH FROM now() - b.oldest), 0)::float8
FROM unnest(%(names)s::text[], %(txs)s::text[], %(positions)s::bigint[])
     AS c(name, tx, position)
CROSS JOIN LATERAL (
    SELECT count(*) AS behind, min(recorded_at) AS oldest
    FROM (
        SELECT recorded_at FROM events
        WHERE (tx, position) > (c.tx::xid8, c.position)
        ORDER BY tx, position
        LIMIT %(cap)s
    ) AS past
) AS b
"""


@dataclass(frozen=True)
class Followed:
    """The projections to look at, by where their checkpoints live."""

    sql: tuple[str, ...] = ()
    redis: tuple[str, ...] = ()


@dataclass(frozen=True)
class Standing:
    name: str
    kind: Kind
    checkpoint: ConsistencyToken | None
    """None: a Redis model with no checkpoint (never built, or lost)."""
    behind: int
    """Events past the checkpoint (at most the `cap` it was counted with)."""
    lag_seconds: float
    """Age of the oldest event past the checkpoint on PostgreSQL's clock; 0 if none."""


async def _sql_checkpoints(
    pool: AsyncConnectionPool[Any], names: Sequence[str]
) -> dict[str, ConsistencyToken]:
    async with pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT name, tx, position FROM projection_checkpoints WHERE name = ANY(%s)",
            (list(names),),
        )
        rows = await cursor.fetchall()
    return {row[0]: ConsistencyToken(int(row[1]), int(row[2])) for row in rows}


async def _redis_checkpoints(
    redis: Redis, prefix: str, names: Sequence[str]
) -> dict[str, ConsistencyToken | None]:
    if not names:
        return {}
    values = await redis.mget([redis_checkpoint_key(prefix, name) for name in names])
    found: dict[str, ConsistencyToken | None] = {}
    for name, value in zip(names, values, strict=True):
        text = value.decode() if isinstance(value, bytes) else value
        found[name] = ConsistencyToken.parse(text) if text else None
    return found


async def standings(
    pool: AsyncConnectionPool[Any],
    followed: Followed,
    *,
    redis: Redis | None = None,
    redis_prefix: str = "tb:",
    cap: int | None = None,
) -> list[Standing]:
    """Where each followed projection stands, SQL ones first. Without `redis` the Redis
    projections are left out. `cap` bounds the events counted per projection (and so the
    work): a model rebuilt from the origin over a long log need not be counted to the end
    to be known to be behind."""
    sql = await _sql_checkpoints(pool, followed.sql) if followed.sql else {}
    kinds: list[tuple[str, Kind, ConsistencyToken | None]] = [
        (name, "sql", sql.get(name, ORIGIN)) for name in followed.sql
    ]
    if redis is not None:
        kept = await _redis_checkpoints(redis, redis_prefix, followed.redis)
        kinds += [(name, "redis", kept[name]) for name in followed.redis]
    if not kinds:
        return []
    tokens = [checkpoint or ORIGIN for _, _, checkpoint in kinds]
    async with pool.connection() as connection:
        cursor = await connection.execute(
            _LAG,
            {
                "names": [name for name, _, _ in kinds],
                "txs": [str(token.tx) for token in tokens],
                "positions": [token.position for token in tokens],
                "cap": cap,
            },
        )
        lags = {row[0]: (int(row[1]), max(float(row[2]), 0.0)) for row in await cursor.fetchall()}
    return [Standing(name, kind, checkpoint, *lags[name]) for name, kind, checkpoint in kinds]


def lag_metrics(found: Sequence[Standing], cap: int) -> list[Metric]:
    """`tablebook_projection_lag_events` and `_seconds`, as the API and the daemon serve
    them (`found` counted with `cap`)."""
    events = GaugeMetricFamily(
        "tablebook_projection_lag_events",
        f"Events past the projection's checkpoint (counted up to {cap})",
        labels=["projection", "kind"],
    )
    seconds = GaugeMetricFamily(
        "tablebook_projection_lag_seconds",
        "Age of the oldest event past the projection's checkpoint, on PostgreSQL's clock;"
        " 0 when caught up",
        labels=["projection", "kind"],
    )
    for standing in found:
        events.add_metric([standing.name, standing.kind], standing.behind)
        seconds.add_metric([standing.name, standing.kind], standing.lag_seconds)
    return [events, seconds]
