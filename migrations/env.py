"""Alembic environment: runs migrations online against the database the caller configured.

The connection is psycopg's, made from the libpq URL as given (`database_url`): it may
name several hosts and `target_session_attrs=read-write`, which only libpq understands,
and the migrations must run on the primary.
"""

from __future__ import annotations

import psycopg
from alembic import context
from sqlalchemy import create_engine, pool

from booking_core.store.connecting import connection_options

config = context.config
url = config.get_main_option("database_url")
if not url:
    raise RuntimeError("database_url is not set; run migrations through `tablebook db upgrade`")
database_url: str = url


def _connect() -> psycopg.Connection[tuple[object, ...]]:
    # With a connect timeout per host: a host of the URL that is gone (black-holed, not
    # refusing) is given up on after seconds, and the next one tried.
    return psycopg.connect(database_url, **connection_options(database_url))


engine = create_engine("postgresql+psycopg://", creator=_connect, poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
