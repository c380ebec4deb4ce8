"""PostgreSQL plumbing for the composition root: URLs, migrations, connection pools."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from alembic import command
from alembic.config import Config
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import AsyncConnectionPool, PoolTimeout

import migrations
from booking_core.store.postgres import configure_connection

__all__ = ["create_database", "drop_database", "migrate", "open_pool", "sqlalchemy_url"]


def sqlalchemy_url(database_url: str) -> str:
    """The same database as a SQLAlchemy URL for the psycopg 3 driver."""
    scheme, sep, rest = database_url.partition("://")
    if not sep or scheme not in {"postgres", "postgresql", "postgresql+psycopg"}:
        raise ValueError(f"DATABASE_URL must be a postgresql:// URL, not {database_url!r}")
    return f"postgresql+psycopg://{rest}"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    # ConfigParser treats % as interpolation; URLs may carry percent-escapes.
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(database_url).replace("%", "%%"))
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


async def open_pool(
    database_url: str, *, min_size: int = 2, max_size: int = 16
) -> AsyncConnectionPool[Any]:
    """An open pool whose connections autocommit and read jsonb as raw bytes.

    A transaction of ours left idle for a minute is ended by the server: an open
    transaction holds every event reader on the server back (docs/architecture.md).
    """
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        kwargs={"autocommit": True, "options": "-c idle_in_transaction_session_timeout=60000"},
        configure=_configure,
        open=False,
    )
    try:
        await pool.open(wait=True, timeout=30)
    except PoolTimeout:
        await pool.close()
        # The pool only says that it gave up; one plain connection says why.
        connection = await psycopg.AsyncConnection.connect(database_url, connect_timeout=10)
        await connection.close()
        raise
    return pool
