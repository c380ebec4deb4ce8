"""What the API needs at run time, opened by the composition root and handed in."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

from api.accounts.account_cache import AccountCache
from booking_core.store import EventStore
from read_models.projection_lag import Followed

__all__ = ["ApiConfig", "Services", "ServicesFactory"]


@dataclass(frozen=True)
class ApiConfig:
    secret_key: str
    cors_origins: tuple[str, ...] = ()
    access_token_minutes: int = 60
    session_hours: int = 16
    production: bool = False
    max_body_bytes: int = 64 * 1024
    bcrypt_rounds: int = 12
    login_attempts_per_account: int = 5
    """Wrong passwords one client address may give for one account before it waits."""
    login_attempts_per_address: int = 20
    """Wrong passwords one client address may give over all accounts before it waits."""
    login_account_alert_failures: int = 50
    """Wrong passwords for one account, from anywhere, after which every address that
    fails against it waits from its first failure on."""
    login_first_delay_seconds: int = 1
    login_max_delay_seconds: int = 900
    registrations_per_address: int = 20
    """Accounts one client address may register an hour."""
    public_writes_per_address: int = 30
    """Bookings, changes and cancellations on the public booking page, per client address
    and `public_window_seconds`."""
    public_window_seconds: int = 600
    consistency_timeout: float = 5.0
    ready_max_lag_seconds: float = 10.0
    """`/health/ready` is 503 while a projection has an event this much older than now
    still to apply."""
    metrics_token: str | None = None
    """When set, `GET /metrics` wants `Authorization: Bearer <token>`."""


@dataclass(frozen=True)
class Services:
    pool: AsyncConnectionPool[Any]
    redis: Redis
    store: EventStore
    redis_prefix: str = "tb:"
    followed: Followed = field(default_factory=Followed)
    """The projections whose lag `/metrics` and `/health/ready` report."""
    accounts: AccountCache | None = None
    """Accounts kept between requests while PostgreSQL announces their changes; without
    it, every signed-in request reads its account's row."""


ServicesFactory = Callable[[], AbstractAsyncContextManager[Services]]
