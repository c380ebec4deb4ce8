"""Replay as of an instant: Christmas Eve at the Harbour Bistro, step by step through the
real command handlers and projectors. After every step the live read models are
recorded; a replay as of that step's instant must reproduce them exactly, and the
time-travel reads must say what the live reads said then."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

import projectors.registry as registry
from booking_core.domain.booking import NoBooking
from booking_core.domain.commands import (
    CancelBooking,
    ChangeBooking,
    CompleteBooking,
    MarkNoShow,
    SeatBooking,
)
from booking_core.handlers import (
    book_table,
    cancel_booking,
    change_booking,
    complete_booking,
    mark_no_show,
    seat_booking,
)
from booking_core.store import ORIGIN, ConsistencyToken
from booking_core.store.postgres import PostgresEventStore
from projectors.replay import (
    build_replay,
    check_name,
    drop_replay,
    list_replays,
    replay_prefix,
    replay_schema,
)
from read_models.as_of import availability_as_of, booking_as_of, booking_history
from read_models.availability import TablesAt, tables_at
from tablebook.cli import main
from tests.integration.test_projections import catch_up, runners
from tests.support.models import clear_read_models, dump_redis, dump_sql
from tests.support.scope import TEST_VENUE
from tests.unit.domain.world import (
    ADA,
    ADMIN,
    ALAN,
    CHRISTMAS_EVE,
    GRACE,
    NOW,
    book,
    command_id,
)
from tests.unit.handlers.bistro import open_venue

EVENING = datetime(2026, 12, 24, 19, 0, tzinfo=NOW.tzinfo)  # London is UTC in December
SEVEN_PM, EIGHT_PM = time(19, 0), time(20, 0)


@dataclass
class Moment:
    step: str
    instant: datetime
    sql: dict[str, Any]
    redis: dict[str, Any]
    at_seven: TablesAt
    at_eight: TablesAt
    bookings: dict[str, str]


@pytest.fixture
async def store(
    clean_store: PostgresEventStore, pool: AsyncConnectionPool[Any], redis: Redis, redis_prefix: str
) -> PostgresEventStore:
    await clear_read_models(pool, redis, redis_prefix)
    async with pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, 'replay_')"
        )
        for (schema,) in await cursor.fetchall():
            await drop_replay(pool, redis, redis_prefix, schema.removeprefix("replay_"))
    return clean_store


def christmas_eve(store: PostgresEventStore) -> list[tuple[str, Callable[[], Awaitable[object]]]]:
    """The evening, one command per step, in order."""

    def at(hour: int, minute: int = 0) -> datetime:
        return EVENING.replace(hour=hour, minute=minute)

    return [
        ("the bistro opens", lambda: open_venue(store)),
        ("Ada books for two at 19:00", lambda: book_table(store, book("b-ada", party_size=2))),
        (
            "Grace books for four at 19:00",
            lambda: book_table(
                store, book("b-grace", party_size=4, guest_name="Grace Hopper", actor=GRACE)
            ),
        ),
        (
            "Alan books for six at 20:00",
            lambda: book_table(
                store,
                book("b-alan", at=EIGHT_PM, party_size=6, guest_name="Alan Turing", actor=ALAN),
            ),
        ),
        (
            "Ada moves to 20:00",
            lambda: change_booking(
                store,
                ChangeBooking(
                    venue_id=TEST_VENUE,
                    command_id=command_id(),
                    actor=ADA,
                    now=NOW,
                    booking_id="b-ada",
                    time=EIGHT_PM,
                ),
            ),
        ),
        (
            "Grace cancels",
            lambda: cancel_booking(
                store,
                CancelBooking(
                    venue_id=TEST_VENUE,
                    command_id=command_id(),
                    actor=GRACE,
                    now=NOW,
                    booking_id="b-grace",
                ),
            ),
        ),
        (
            "Ada is seated",
            lambda: seat_booking(
                store,
                SeatBooking(
                    venue_id=TEST_VENUE,
                    command_id=command_id(),
                    actor=ADMIN,
                    now=at(20),
                    booking_id="b-ada",
                ),
            ),
        ),
        (
            "Alan never comes",
            lambda: mark_no_show(
                store,
                MarkNoShow(
                    venue_id=TEST_VENUE,
                    command_id=command_id(),
                    actor=ADMIN,
                    now=at(20, 30),
                    booking_id="b-alan",
                ),
            ),
        ),
        (
            "Ada leaves",
            lambda: complete_booking(
                store,
                CompleteBooking(
                    venue_id=TEST_VENUE,
                    command_id=command_id(),
                    actor=ADMIN,
                    now=at(21, 45),
                    booking_id="b-ada",
                ),
            ),
        ),
    ]


async def db_clock(pool: AsyncConnectionPool[Any]) -> datetime:
    async with pool.connection() as connection:
        cursor = await connection.execute("SELECT clock_timestamp()")
        row = await cursor.fetchone()
    assert row is not None
    instant: datetime = row[0]
    return instant


async def readable(store: PostgresEventStore, pool: AsyncConnectionPool[Any]) -> None:
    """Wait until the gap-free reader sees the newest event: an open transaction anywhere
    on the server (another test run's, say) can hold it back for a moment."""
    async with pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT tx::text::bigint, position FROM events ORDER BY tx DESC, position DESC LIMIT 1"
        )
        row = await cursor.fetchone()
    newest = ConsistencyToken(*row) if row else ORIGIN
    for _ in range(2000):
        if await store.head() >= newest:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"{newest} stayed unreadable for ten seconds")


async def redis_model(redis: Redis, prefix: str) -> dict[str, Any]:
    """The keys under `prefix`, named without it; replays are not part of the live model."""
    return {
        key.removeprefix(prefix): value
        for key, value in (await dump_redis(redis, prefix)).items()
        if not key.startswith(prefix + "replay:")
    }


async def availability(redis: Redis, prefix: str, now: datetime, at: time) -> TablesAt:
    return await tables_at(
        redis, prefix, venue_id=TEST_VENUE, day=CHRISTMAS_EVE, at=at, party_size=2, now=now
    )


async def statuses(store: PostgresEventStore, instant: datetime) -> dict[str, str]:
    found = {}
    for booking_id in ("b-ada", "b-grace", "b-alan"):
        found[booking_id] = (
            await booking_as_of(store, TEST_VENUE, booking_id, instant)
        ).state.status
    return found


async def live_evening(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any], redis: Redis, prefix: str
) -> list[Moment]:
    live = runners(store, pool, redis, prefix)
    moments = []
    for step, command in christmas_eve(store):
        await command()
        await readable(store, pool)
        await catch_up(live)
        instant = await db_clock(pool)
        moments.append(
            Moment(
                step=step,
                instant=instant,
                sql=await dump_sql(pool),
                redis=await redis_model(redis, prefix),
                at_seven=await availability(redis, prefix, instant, SEVEN_PM),
                at_eight=await availability(redis, prefix, instant, EIGHT_PM),
                bookings=await statuses(store, instant),
            )
        )
    return moments


async def test_a_replay_as_of_each_step_reproduces_the_live_models_of_that_step(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any], redis: Redis, redis_prefix: str
) -> None:
    moments = await live_evening(store, pool, redis, redis_prefix)
    assert moments[-1].bookings == {
        "b-ada": "completed",
        "b-grace": "cancelled",
        "b-alan": "no_show",
    }
    assert moments[3].bookings == {
        "b-ada": "confirmed",
        "b-grace": "confirmed",
        "b-alan": "confirmed",
    }

    for n, moment in enumerate(moments):
        name = f"step_{n}"
        replay = await build_replay(
            name=name,
            as_of=moment.instant,
            store=store,
            codec=registry.codec,
            pool=pool,
            redis=redis,
            redis_prefix=redis_prefix,
            sql_projections=registry.SQL_PROJECTIONS,
            redis_projections=registry.REDIS_PROJECTIONS,
        )
        prefix = replay_prefix(redis_prefix, name)
        assert await dump_sql(pool, replay_schema(name)) == moment.sql, moment.step
        assert await redis_model(redis, prefix) == moment.redis, moment.step
        replayed = await availability(redis, prefix, moment.instant, SEVEN_PM)
        assert replayed == moment.at_seven, moment.step
        assert replay.built_at is not None
        assert replay.events == sum(
            1 for _ in await store.read_all(limit=10_000) if _.recorded_at <= moment.instant
        )

    assert await dump_sql(pool) == moments[-1].sql, "the live models are untouched"
    assert await redis_model(redis, redis_prefix) == moments[-1].redis


async def test_time_travel_reads_say_what_the_live_reads_said_at_each_step(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any], redis: Redis, redis_prefix: str
) -> None:
    moments = await live_evening(store, pool, redis, redis_prefix)
    for moment in moments:
        for at, live in ((SEVEN_PM, moment.at_seven), (EIGHT_PM, moment.at_eight)):
            then = await availability_as_of(
                store, TEST_VENUE, day=CHRISTMAS_EVE, at=at, as_of=moment.instant, party_size=2
            )
            assert then == live, (moment.step, at)
    before = moments[0].instant
    assert isinstance((await booking_as_of(store, TEST_VENUE, "b-ada", before)).state, NoBooking)
    moved = await booking_as_of(store, TEST_VENUE, "b-ada", moments[4].instant)
    assert moved.state.status == "confirmed"
    assert moved.version == 2
    assert not isinstance(moved.state, NoBooking)
    assert moved.state.details.slot.starts_at.time() == EIGHT_PM


async def test_a_bookings_history_names_each_step_and_who_took_it(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any], redis: Redis, redis_prefix: str
) -> None:
    for _, command in christmas_eve(store):
        await command()
    history = await booking_history(store, TEST_VENUE, "b-ada")
    assert [(e.version, e.type, e.by) for e in history] == [
        (1, "BookingPlaced", ADA.user_id),
        (2, "BookingChanged", ADA.user_id),
        (3, "BookingSeated", ADMIN.user_id),
        (4, "BookingCompleted", ADMIN.user_id),
    ]
    assert history[0].data["guest_name"] == "Ada Lovelace"
    assert history[1].data["time"] == "20:00:00"
    assert all(e.at.utcoffset() == timedelta(0) for e in history)
    assert history == sorted(history, key=lambda e: e.at)
    assert await booking_history(store, TEST_VENUE, "b-nobody") == []
    assert await booking_history(store, TEST_VENUE, "b-ada", as_of=history[1].at) == history[:2]


async def test_replays_are_listed_and_dropped_and_their_names_are_checked(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any], redis: Redis, redis_prefix: str
) -> None:
    await open_venue(store)
    instant = await db_clock(pool)
    options: dict[str, Any] = {
        "store": store,
        "codec": registry.codec,
        "pool": pool,
        "redis": redis,
        "redis_prefix": redis_prefix,
        "sql_projections": registry.SQL_PROJECTIONS,
        "redis_projections": registry.REDIS_PROJECTIONS,
    }
    await build_replay(name="opening", as_of=instant, **options)
    again = await build_replay(name="opening", as_of=instant, **options)
    assert [(r.name, r.as_of, r.events) for r in await list_replays(pool)] == [
        ("opening", instant, again.events)
    ]
    assert await drop_replay(pool, redis, redis_prefix, "opening")
    assert await list_replays(pool) == []
    assert not [
        k async for k in redis.scan_iter(match=replay_prefix(redis_prefix, "opening") + "*")
    ]
    assert not await drop_replay(pool, redis, redis_prefix, "opening")

    for bad in ("Friday", "x; DROP TABLE events", "", "a" * 41, "1st", "a-b"):
        with pytest.raises(ValueError, match="bad replay name"):
            check_name(bad)
    with pytest.raises(ValueError, match="in the future"):
        await build_replay(name="later", as_of=instant + timedelta(days=1), **options)


@pytest.fixture
def cli_env(
    monkeypatch: pytest.MonkeyPatch, database_url: str, redis_url: str, redis_prefix: str
) -> dict[str, str]:
    env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "REDIS_PREFIX": redis_prefix}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return {**os.environ, **env}


async def in_thread(argv: list[str]) -> int:
    """`main` runs its own event loop, so it runs beside the test's."""
    return await asyncio.to_thread(main, argv)


async def test_the_replay_command_builds_lists_and_drops(
    store: PostgresEventStore,
    pool: AsyncConnectionPool[Any],
    redis: Redis,
    redis_prefix: str,
    cli_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    await open_venue(store)
    await book_table(store, book("b-ada"))
    instant = (await db_clock(pool)).isoformat().replace("+00:00", "Z")
    assert await in_thread(["replay", "--as-of", instant, "--into", "eve"]) == 0
    assert "replay eve: 14 events" in capsys.readouterr().out
    assert await in_thread(["replay", "list"]) == 0
    assert "eve" in capsys.readouterr().out
    assert await in_thread(["replay", "drop", "eve"]) == 0
    assert await in_thread(["replay", "drop", "eve"]) == 1
    assert "no replay named 'eve'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--as-of", "yesterday", "--into", "x"], "not an ISO-8601 instant"),
        (["--as-of", "2026-11-26T19:00:00", "--into", "x"], "has no UTC offset"),
        (["--as-of", "2026-11-26T19:00:00Z", "--into", "Bad-Name"], "bad replay name"),
        (["--into", "x"], "replay needs --as-of"),
        (["drop", "Robert'); DROP TABLE events;--"], "bad replay name"),
    ],
    ids=[
        "a word is not an instant",
        "a local time is refused",
        "names are identifiers",
        "the instant is required",
        "drop checks the name too",
    ],
)
def test_bad_replay_arguments_exit_2_with_one_line(
    argv: list[str], message: str, cli_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert message in err[0]
