"""Which errors mean "a server we depend on is unavailable", as opposed to a bug.

A fault is the connection's, not the request's: the server is down, restarting, still
starting up, shutting us out, or too slow to answer. Trying the same thing again later is
the right answer to a fault, and the wrong one to anything else. The API answers a fault
with 503 and `Retry-After`; the long-running processes wait (`resilience.backoff`) and
try again.

- PostgreSQL: `psycopg.OperationalError` (AdminShutdown, CannotConnectNow, a closed or
  broken connection, a statement cancelled by a timeout), `psycopg.InterfaceError`, the
  pool's `PoolTimeout` (no connection could be had in time), and `ReadOnlySqlTransaction`
  (SQLSTATE 25006: the server we reached is, or has just become, a standby, as during a
  failover; the write was refused, nothing was written);
- Redis: `ConnectionError` (refused, reset, `BusyLoadingError` while it loads its data,
  and under Sentinel `MasterNotFoundError` while no master is known), `TimeoutError`,
  `ReadOnlyError` (a write reached a master since demoted to a replica: "READONLY You
  can't write against a read only replica") and `MasterDownError` (a replica that has
  lost its master refuses to answer).

A fault may come wrapped: raised `from` it by another error, or inside an exception group
of tasks run together. `unavailable_server` looks through both (not through an error's
implicit context: a bug met while handling a fault is still a bug).
"""

from __future__ import annotations

import psycopg
from psycopg_pool import PoolTimeout
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import MasterDownError, ReadOnlyError
from redis.exceptions import TimeoutError as RedisTimeoutError

__all__ = ["POSTGRES", "REDIS", "SERVER_FAULTS", "unavailable_server"]

POSTGRES = "PostgreSQL"
REDIS = "Redis"

_POSTGRES_FAULTS: tuple[type[BaseException], ...] = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    psycopg.errors.ReadOnlySqlTransaction,
    PoolTimeout,
)
_REDIS_FAULTS: tuple[type[BaseException], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    ReadOnlyError,
    MasterDownError,
)

SERVER_FAULTS = _POSTGRES_FAULTS + _REDIS_FAULTS
"""The error classes that are faults in themselves (for `except` clauses and handlers)."""


def unavailable_server(error: BaseException) -> str | None:
    """The server (`POSTGRES` or `REDIS`) whose unavailability caused `error`, if any."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, _POSTGRES_FAULTS):
            return POSTGRES
        if isinstance(current, _REDIS_FAULTS):
            return REDIS
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        if current.__cause__ is not None:
            pending.append(current.__cause__)
    return None
