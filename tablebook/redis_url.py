"""`REDIS_URL`: one Redis server, or a master that Redis Sentinel watches over.

Two forms:

- `redis://[[user]:password@]host[:port][/db]` (also `rediss://` and `unix://`): one
  server, read by redis-py as it is.
- `redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/service[/db]`: the
  sentinels to ask (port 26379 unless given), the name under which they monitor the
  master (`sentinel monitor <service> ...`), and the database (0 unless given). The user
  and password are the master's; sentinels that require a password of their own are
  given it as `?sentinel_password=...`. Percent-escape what a password holds of `@:/?#%`.

With Sentinel, every new connection asks the sentinels where the master is, and a
connection that finds itself on a demoted master (READONLY) is dropped, so the processes
follow a failover without a restart; while no master is known, commands fail with
`MasterNotFoundError`, which the API answers with 503 (`resilience.faults`).

Every process opens Redis here (`open_redis`), so each accepts both forms alike.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from redis.asyncio import Redis
from redis.asyncio.sentinel import Sentinel

__all__ = [
    "SENTINEL_PORT",
    "SENTINEL_SCHEME",
    "SentinelTarget",
    "check_redis_url",
    "open_redis",
    "parse_sentinel_url",
]

SENTINEL_SCHEME = "redis+sentinel"
SENTINEL_PORT = 26379
_PLAIN_SCHEMES = {"redis", "rediss", "unix"}
_SENTINEL_SECONDS = 1.0
"""How long one sentinel may take to connect or answer before the next one is asked."""


@dataclass(frozen=True)
class SentinelTarget:
    """What a `redis+sentinel://` URL names."""

    sentinels: tuple[tuple[str, int], ...]
    service: str
    db: int = 0
    username: str | None = None
    password: str | None = None
    sentinel_password: str | None = None


def _host_port(part: str, url: str) -> tuple[str, int]:
    """`host`, `host:port`, `[v6 address]` or `[v6 address]:port`."""
    if part.startswith("["):
        host, _, rest = part[1:].partition("]")
        port = rest.removeprefix(":")
    else:
        host, _, port = part.partition(":")
    if not host:
        raise ValueError(f"REDIS_URL names a sentinel without a host: {_shown(url)}")
    if not port:
        return host, SENTINEL_PORT
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"REDIS_URL names a sentinel port that is not a port: {port!r}")
    return host, int(port)


def _shown(url: str) -> str:
    """The URL without its credentials or query (which may hold the sentinels' password),
    fit for an error message."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2].partition('?')[0]}"


def _query(query: str) -> dict[str, str]:
    """`a=b&c=d`, percent-decoded; a `+` stays a `+` (a password may hold one)."""
    pairs = (part.partition("=") for part in query.split("&") if part)
    return {unquote(key): unquote(value) for key, _, value in pairs}


def parse_sentinel_url(url: str) -> SentinelTarget | None:
    """The sentinels, service and database a `redis+sentinel://` URL names; None for a
    URL of one server. ValueError for a URL of neither form."""
    parts = urlsplit(url)
    if parts.scheme in _PLAIN_SCHEMES:
        return None
    if parts.scheme != SENTINEL_SCHEME:
        raise ValueError(
            f"REDIS_URL must start with redis://, rediss://, unix:// or {SENTINEL_SCHEME}://,"
            f" not {parts.scheme or 'nothing'}://"
        )
    credentials, at, hosts = parts.netloc.rpartition("@")
    if not at:
        credentials = ""
    user, colon, password = credentials.partition(":")
    sentinels = tuple(_host_port(h, url) for h in hosts.split(",") if h) if hosts else ()
    if not sentinels:
        raise ValueError(f"REDIS_URL names no sentinel: {_shown(url)}")
    path = [p for p in parts.path.split("/") if p]
    if not path or len(path) > 2:
        raise ValueError(
            f"REDIS_URL must name the service the sentinels monitor, and may name the"
            f" database: {SENTINEL_SCHEME}://host:26379/service/0, not {_shown(url)}"
        )
    if len(path) == 2 and not path[1].isdigit():
        raise ValueError(f"REDIS_URL names a database that is not a number: {path[1]!r}")
    query = _query(parts.query)
    unknown = set(query) - {"sentinel_password"}
    if unknown:
        raise ValueError(f"REDIS_URL has unknown parameters: {', '.join(sorted(unknown))}")
    sentinel_password = query.get("sentinel_password", "")
    return SentinelTarget(
        sentinels=sentinels,
        service=unquote(path[0]),
        db=int(path[1]) if len(path) == 2 else 0,
        username=unquote(user) or None,
        password=unquote(password) if colon and password else None,
        sentinel_password=sentinel_password or None,
    )


def check_redis_url(url: str) -> str:
    """`url` if it is of either form; ValueError saying what is wrong otherwise."""
    parse_sentinel_url(url)
    return url


@asynccontextmanager
async def open_redis(url: str, **options: Any) -> AsyncIterator[Redis]:
    """A client of the server, or of the Sentinel-managed master, that `url` names;
    `options` are redis-py's connection options (timeouts, health checks). Closed, with
    the sentinels' connections, when the block ends."""
    target = parse_sentinel_url(url)
    if target is None:
        client = Redis.from_url(url, **options)
        try:
            yield client
        finally:
            await client.aclose()
        return
    sentinel = Sentinel(
        target.sentinels,
        sentinel_kwargs={
            "socket_connect_timeout": _SENTINEL_SECONDS,
            "socket_timeout": _SENTINEL_SECONDS,
            "password": target.sentinel_password,
        },
    )
    client = sentinel.master_for(
        target.service,
        db=target.db,
        username=target.username,
        password=target.password,
        **options,
    )
    try:
        yield client
    finally:
        try:
            await client.aclose()
        finally:
            await sentinel.aclose()
