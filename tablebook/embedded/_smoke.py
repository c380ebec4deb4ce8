"""`python -m tablebook.embedded --smoke`: boot both servers in a scratch folder, migrate,
append and read an event, ping Valkey, stop; one line says how it went."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tablebook.embedded._common import EmbeddedServicesError, log
from tablebook.embedded._datadir import resolve_data_dir
from tablebook.embedded._ports import port_of, port_open
from tablebook.embedded._session import embedded_services


def smoke() -> int:
    """Run the smoke test; print one line saying how it went and return the exit status."""
    started = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix="tablebook-smoke-"))
    try:
        with embedded_services(scratch) as urls:
            if urls.database_url is None or urls.redis_url is None:
                raise EmbeddedServicesError(f"missing URLs: {urls}")
            from tablebook.database import migrate

            migrate(urls.database_url)
            version, token = asyncio.run(_smoke_event_store(urls.database_url))
            _smoke_valkey(urls.redis_url)
            ports = [port_of(urls.database_url), port_of(urls.redis_url)]
        still_open = [port for port in ports if port is not None and port_open(port)]
        if still_open:
            raise EmbeddedServicesError(f"ports still open after stopping: {still_open}")
    except Exception as error:
        log.exception("embedded smoke test failed")
        print(f"embedded smoke: FAILED: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(resolve_data_dir(scratch), ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)
    print(
        f"embedded smoke: ok (PostgreSQL {version} and Valkey on ports "
        f"{ports[0]}/{ports[1]}, migrated, event {token} appended and read back, "
        f"{time.monotonic() - started:.1f} s)"
    )
    return 0


async def _smoke_event_store(database_url: str) -> tuple[str, str]:
    import uuid

    import psycopg
    from psycopg_pool import AsyncConnectionPool

    from booking_core.store import NO_STREAM, NewEvent, StreamAppend
    from booking_core.store.postgres import PostgresEventStore, configure_connection

    async def configure(connection: psycopg.AsyncConnection[Any]) -> None:
        configure_connection(connection)

    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        database_url,
        min_size=1,
        max_size=2,
        kwargs={"autocommit": True},
        configure=configure,
        open=False,
    )
    await pool.open(wait=True, timeout=30)
    try:
        async with pool.connection() as connection:
            cursor = await connection.execute("SHOW server_version")
            row = await cursor.fetchone()
            version = str(row[0]) if row else "?"
        store = PostgresEventStore(pool, database_url)
        stream = f"smoke-{uuid.uuid4().hex}"
        event = NewEvent(type="SmokeTested", data=b'{"ok": true}')
        result = await store.append([StreamAppend(stream, NO_STREAM, [event])])
        events = await store.read_stream(stream)
        if [(e.type, json.loads(e.data)) for e in events] != [("SmokeTested", {"ok": True})]:
            raise EmbeddedServicesError(f"read back something else: {events!r}")
        if events[0].token != result.token:
            raise EmbeddedServicesError(f"token {events[0].token} != appended {result.token}")
        return version, str(result.token)
    finally:
        await pool.close()


def _smoke_valkey(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    try:
        if client.ping() is not True:
            raise EmbeddedServicesError("valkey did not answer PING")
        client.set("tablebook:smoke", "ok")
        if client.get("tablebook:smoke") != b"ok":
            raise EmbeddedServicesError("valkey did not keep a value")
    finally:
        client.close()
