"""A `DATABASE_URL` naming several hosts, as a failover pair is given
(`postgresql://db1:5432,db2:5432/tablebook?target_session_attrs=read-write`): the
migrations, the pools and the LISTEN connections take it as it is and reach the server
that accepts writes; a pooled connection whose server turns read-only (a standby now) is
dropped rather than handed out again. Here the first host is a closed port, as a dead
primary's is; tests/soak/test_postgres_failover.py runs a real failover."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import quote

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from booking_core.store.listener import Listener
from tablebook.database import create_database, drop_database, migrate, open_pool, with_database
from tests.support.throwaway import free_port


def _two_hosts(database_url: str) -> str:
    """The same database behind a URL whose first host accepts no connection."""
    given = conninfo_to_dict(database_url)
    host = str(given.get("host") or "127.0.0.1").split(",")[-1]
    port = str(given.get("port") or "5432").split(",")[-1]
    user = quote(str(given.get("user") or "postgres"), safe="")
    secret = f":{quote(str(given['password']), safe='')}" if given.get("password") else ""
    hosts = f"127.0.0.1:{free_port()},{quote(host, safe='')}:{port}"
    name = quote(str(given.get("dbname") or "postgres"), safe="")
    return f"postgresql://{user}{secret}@{hosts}/{name}?target_session_attrs=read-write"


@pytest.fixture
def two_hosts(database_url: str) -> Iterator[str]:
    """A fresh database, named by a URL of two hosts, the first of them dead."""
    name = f"tablebook_hosts_{uuid.uuid4().hex[:8]}"
    create_database(database_url, name)
    try:
        yield _two_hosts(with_database(database_url, name))
    finally:
        drop_database(database_url, name)


async def test_migrations_pools_and_listeners_reach_the_server_that_takes_writes(
    two_hosts: str,
) -> None:
    migrate(two_hosts)
    with psycopg.connect(two_hosts) as connection:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    assert row is not None
    pool = await open_pool(two_hosts, min_size=1, max_size=2)
    listener = Listener(two_hosts, "tablebook_hosts_test")
    try:
        await listener.start()
        assert listener.listening
        async with pool.connection() as connection:
            await connection.execute("SELECT pg_notify('tablebook_hosts_test', 'hello')")
        assert await listener.wait(5.0)
    finally:
        await listener.stop()
        await pool.close()


async def test_a_connection_whose_server_turns_read_only_is_dropped(two_hosts: str) -> None:
    pool = await open_pool(two_hosts, min_size=1, max_size=1)
    try:
        async with pool.connection() as connection:
            turned = connection
            # As a server demoted to a standby would say: it takes no more writes.
            await connection.execute("SET default_transaction_read_only = on")
        async with pool.connection() as connection:
            assert connection is not turned
            await connection.execute("CREATE TEMPORARY TABLE written (n int)")
            await connection.execute("INSERT INTO written VALUES (1)")
    finally:
        await pool.close()
