"""PostgreSQL plumbing for the composition root: URLs, migrations, connection pools.

`DATABASE_URL` is a libpq URL or conninfo, and only libpq reads it: it may name several
hosts (`postgresql://db1:5432,db2:5432/tablebook?target_session_attrs=read-write`, see
`booking_core.store.connecting`), which SQLAlchemy's URLs cannot say, so the migrations
connect through psycopg with the URL as given rather than through a SQLAlchemy URL.
"""

from __future__ import annotations

import contextlib
import time
import weakref
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from alembic import command
from alembic.config import Config
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import AsyncConnectionPool, PoolClosed, PoolTimeout

import migrations
from booking_core.store.connecting import connection_options, on_read_only_server
from booking_core.store.postgres import configure_connection

__all__ = [
    "SERVICE_POOL_WAIT_SECONDS",
    "create_database",
    "drop_database",
    "migrate",
    "open_pool",
]

_SCHEMES = ("postgres://", "postgresql://")


def alembic_config(database_url: str) -> Config:
    """Alembic's configuration for the database of `database_url` (`migrations/env.py`
    connects with it through psycopg)."""
    if "://" in database_url and not database_url.startswith(_SCHEMES):
        raise ValueError("DATABASE_URL must be a postgresql:// URL")
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    # ConfigParser treats % as interpolation; URLs may carry percent-escapes.
    config.set_main_option("database_url", database_url.replace("%", "%%"))
    return config


def migrate(database_url: str) -> None:
    """Bring the database's schema to the newest migration."""
    command.upgrade(alembic_config(database_url), "head")


def with_database(database_url: str, name: str) -> str:
    """The URL of another database on the same server."""
    parts = urlsplit(database_url)
    if not parts.scheme:
        return make_conninfo(database_url, dbname=name)
    return urlunsplit(parts._replace(path="/" + quote(name)))


def create_database(server_url: str, name: str) -> None:
    """Create `name` on the server of `server_url` unless it exists."""
    with psycopg.connect(server_url, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(server_url: str, name: str) -> None:
    if conninfo_to_dict(server_url).get("dbname") == name:
        raise ValueError("refusing to drop the database the URL connects to")
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


async def _configure(connection: psycopg.AsyncConnection[Any]) -> None:
    configure_connection(connection)


SERVICE_POOL_WAIT_SECONDS = 5.0
"""How long the long-running processes (the API, the daemon, the sender) wait for a
connection before `PoolTimeout`: while PostgreSQL is down none comes, and a 503 (or a
retry line in the log) now beats one in 30 s. The one-off commands keep 30 s."""

RECONNECT_SECONDS = 2.0
"""How long the pool retries a lost connection on its own schedule (1 s, then 2 s, 4 s,
... when left alone) before it gives up and `_connect_again` starts afresh. Short, so
that during an outage the pool tries about once a second, and is whole again within a
second or so of the server's return rather than at the end of a long wait it chose
while the server was away."""


async def _connect_again(pool: AsyncConnectionPool[Any]) -> None:
    """A reconnection gave up: start another one now, or callers already waiting would
    wait in vain (`check` grows a pool that has no connection left)."""
    with contextlib.suppress(PoolClosed):
        await pool.check()


CHECK_IDLE_SECONDS = 0.1
"""A connection idle in the pool for longer than this is checked (one empty round trip)
before it is handed out; one reused sooner is not, so a busy pool pays nothing. A server
takes longer than this to restart, so once it is back every connection from before is
checked, and those it broke are dropped rather than handed to a request."""

_returned_at: weakref.WeakKeyDictionary[psycopg.AsyncConnection[Any], float] = (
    weakref.WeakKeyDictionary()
)


class ReadOnlyServer(psycopg.OperationalError):
    """A pooled connection's server no longer takes writes: the connection is dropped."""


def _refuse_read_only(connection: psycopg.AsyncConnection[Any]) -> None:
    if on_read_only_server(connection.info):
        raise ReadOnlyServer("the server is a standby or read-only now")


async def _note_return(connection: psycopg.AsyncConnection[Any]) -> None:
    """A connection back in the pool: when it was returned, unless its server turned
    read-only meanwhile (then raising drops it, and the pool makes another, which
    `target_session_attrs=read-write` sends to the primary)."""
    _refuse_read_only(connection)
    _returned_at[connection] = time.monotonic()


async def _check_if_idle(connection: psycopg.AsyncConnection[Any]) -> None:
    """Drop a connection a server restart broke, or whose server became read-only,
    while it sat in the pool."""
    _refuse_read_only(connection)
    if time.monotonic() - _returned_at.get(connection, 0.0) >= CHECK_IDLE_SECONDS:
        await AsyncConnectionPool.check_connection(connection)


async def open_pool(
    database_url: str, *, min_size: int = 2, max_size: int = 16, wait_seconds: float = 30.0
) -> AsyncConnectionPool[Any]:
    """An open pool whose connections autocommit and read jsonb as raw bytes.

    A transaction of ours left idle for a minute is ended by the server: an open
    transaction holds every event reader on the server back (docs/architecture.md).

    A connection that sat idle is checked as it leaves the pool (`CHECK_IDLE_SECONDS`),
    so one that a server restart broke is dropped and replaced rather than handed to a
    request; so is one whose server says it is a standby or read-only (no round trip).
    With several hosts in the URL, each new connection goes to the one that accepts
    writes: after a failover the pool refills from the new primary by itself.
    """
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        kwargs={
            "autocommit": True,
            "options": "-c idle_in_transaction_session_timeout=60000",
            **connection_options(database_url),
        },
        configure=_configure,
        check=_check_if_idle,
        reset=_note_return,
        timeout=wait_seconds,
        reconnect_timeout=RECONNECT_SECONDS,
        reconnect_failed=_connect_again,
        open=False,
    )
    try:
        await pool.open(wait=True, timeout=30)
    except PoolTimeout:
        await pool.close()
        # The pool only says that it gave up; one plain connection says why.
        connection = await psycopg.AsyncConnection.connect(
            database_url, **connection_options(database_url)
        )
        await connection.close()
        raise
    return pool
