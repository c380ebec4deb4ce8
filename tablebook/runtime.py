"""Opens what the processes need: the PostgreSQL pool, the event store, Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import projectors.registry as registry
from api.accounts.account_cache import AccountCache
from api.services import Services
from booking_core.store.postgres import PostgresEventStore
from tablebook.database import SERVICE_POOL_WAIT_SECONDS, open_pool
from tablebook.redis_url import open_redis

__all__ = ["open_services"]


@asynccontextmanager
async def open_services(
    database_url: str, redis_url: str, *, pool_size: int = 16, redis_prefix: str = "tb:"
) -> AsyncIterator[Services]:
    pool = await open_pool(
        database_url, min_size=2, max_size=pool_size, wait_seconds=SERVICE_POOL_WAIT_SECONDS
    )
    try:
        # A Redis that does not accept the connection within 2 s, or answer within 5 s
        # (a request's commands take milliseconds; the live stream blocks for at most
        # 2 s), is as good as down: 503.
        async with open_redis(
            redis_url,
            health_check_interval=30,
            socket_connect_timeout=2,
            socket_timeout=5,
            socket_keepalive=True,
        ) as redis:
            accounts = AccountCache(database_url)
            await accounts.start()
            try:
                yield Services(
                    pool=pool,
                    redis=redis,
                    store=PostgresEventStore(pool, database_url),
                    redis_prefix=redis_prefix,
                    followed=registry.followed(),
                    accounts=accounts,
                )
            finally:
                await accounts.stop()
    finally:
        await pool.close()
