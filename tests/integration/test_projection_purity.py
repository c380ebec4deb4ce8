"""Every read model is a pure function of the event log.

For any history (the floor laid and changed at instants before, among and after the days
booked, closures added and lifted, bookings placed, moved, cancelled, seated, finished,
guests erased) the daemon's models, read in whatever batches the log happens to be cut
into while it grows, equal a rebuild from scratch and a replay as of the last instant: row
for row and key for key, for every SQL and Redis projection.

An erased guest's earlier events read as erased in the rebuild and the replay, while the
daemon read them with the guest's details: the models agree only because the daemon
scrubs what it kept on `PersonErased`.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

import projectors.registry as registry
from booking_core.codec import Event
from booking_core.domain.events import (
    ClosureRemoved,
    OpeningHoursChanged,
    SlotSettingsChanged,
    TableAdded,
    TableChanged,
    TableRetired,
)
from booking_core.domain.values import OpeningHours, Shift, TurnTime
from booking_core.store import StreamAppend
from booking_core.store.postgres import PostgresEventStore
from projectors.rebuild import rebuild
from projectors.replay import build_replay, drop_replay, replay_prefix, replay_schema
from projectors.runner import RedisProjectionRunner, SqlProjectionRunner, grouped
from tests.integration.test_replay import db_clock, readable, redis_model
from tests.support.erasure import erase_identity
from tests.support.models import clear_read_models, dump_sql
from tests.support.scope import STREAMS
from tests.support.story import TABLES, Story

FIRST_INSTANT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
ZONES = ("Europe/Amsterdam", "America/New_York", "Pacific/Auckland")


class FloorChanges:
    """Floor events dated anywhere from a week before the story's days to a week after."""

    def __init__(self, story: Story, rng: random.Random) -> None:
        self.story = story
        self.rng = rng
        self.extra: list[str] = []

    def instant(self) -> datetime:
        return FIRST_INSTANT + timedelta(minutes=self.rng.randrange(30 * 24 * 60))

    def day(self) -> date:
        return self.story.start + timedelta(days=self.rng.randrange(-3, self.story.days + 3))

    def random_step(self) -> list[StreamAppend]:
        roll = self.rng.random()
        if roll < 0.25:
            return self._table_added()
        if roll < 0.4 and self.extra:
            table_id = self.extra.pop(self.rng.randrange(len(self.extra)))
            retired = TableRetired(table_id=table_id, retired_at=self.instant())
            return self.story._append((STREAMS.table(table_id), [retired]))
        if roll < 0.55:
            return self._table_changed()
        if roll < 0.75:
            return self._hours()
        if roll < 0.85:
            return self._slot_settings()
        if roll < 0.93:
            return self.story.closure(self.day())
        removed: Event = ClosureRemoved(date=self.day())
        return self.story._append((STREAMS.venue, [removed]))

    def _table_added(self) -> list[StreamAppend]:
        table_id = f"X{self.story.counter}"
        self.extra.append(table_id)
        added = TableAdded(
            table_id=table_id,
            name=f"TERRACE-{self.story.counter}",
            capacity=self.rng.randint(2, 10),
            area="terrace",
            added_at=self.instant(),
        )
        return self.story._append((STREAMS.table(table_id), [added]))

    def _table_changed(self) -> list[StreamAppend]:
        table_id = self.rng.choice(sorted(TABLES))
        name, capacity, minimum, area = TABLES[table_id]
        changed = TableChanged(
            table_id=table_id,
            name=name,
            capacity=capacity + self.rng.randint(0, 2),
            min_capacity=minimum,
            area=area,
            x=0.0,
            y=0.0,
            width=1.0,
            height=1.0,
            rotation=0.0,
            shape="rectangle",
            changed_at=self.instant(),
        )
        return self.story._append((STREAMS.table(table_id), [changed]))

    def _hours(self) -> list[StreamAppend]:
        opens = self.rng.choice((11, 12, 17))
        shifts = [Shift(opens=time(opens, 0), closes=time(opens + self.rng.randint(3, 5), 0))]
        if self.rng.random() < 0.5:
            shifts.append(Shift(opens=time(22, 0), closes=time(1, 30)))  # past midnight
        changed = OpeningHoursChanged(
            hours=OpeningHours.every_day(*shifts),
            changed_at=self.instant() if self.rng.random() < 0.8 else None,
        )
        return self.story._append((STREAMS.venue, [changed]))

    def _slot_settings(self) -> list[StreamAppend]:
        changed = SlotSettingsChanged(
            interval_minutes=self.rng.choice((15, 30)),
            turn_times=(TurnTime(max_party_size=8, minutes=self.rng.choice((90, 120))),),
            buffer_minutes=self.rng.choice((0, 15)),
            min_lead_minutes=60,
            max_days_ahead=90,
            time_zone=self.rng.choice(ZONES),
        )
        return self.story._append((STREAMS.venue, [changed]))


async def _clear(store: PostgresEventStore, pool: Any, redis: Redis, prefix: str) -> None:
    async with pool.connection() as connection:
        await connection.execute("TRUNCATE events, streams, idempotency_keys RESTART IDENTITY")
    await drop_replay(pool, redis, prefix, "purity")
    await clear_read_models(pool, redis, prefix)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    steps=st.integers(min_value=1, max_value=80),
    floor_share=st.floats(min_value=0.0, max_value=0.5),
    erase_share=st.sampled_from((0.0, 0.05)),
    cuts=st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=12),
)
async def test_live_rebuilt_and_replayed_models_are_equal_however_the_log_is_cut(
    clean_store: PostgresEventStore,
    database_url: str,
    pool: AsyncConnectionPool[Any],
    redis: Redis,
    redis_prefix: str,
    seed: int,
    steps: int,
    floor_share: float,
    erase_share: float,
    cuts: list[int],
) -> None:
    await _clear(clean_store, pool, redis, redis_prefix)
    rng = random.Random(seed)
    story = Story(seed=seed)
    # A store of this example's own: none of the last example's persons in its memory.
    store = PostgresEventStore(pool, database_url)
    floor = FloorChanges(story, rng)
    history: list[list[StreamAppend] | tuple[str, str]] = [*story.opening()]
    for _ in range(steps):
        roll = rng.random()
        if roll > 1 - erase_share:
            step: Any = story.erase()
        else:
            step = floor.random_step() if roll < floor_share else story.random_step()
        if step:
            history.append(step)

    members: list[SqlProjectionRunner | RedisProjectionRunner] = [
        *(SqlProjectionRunner(p, store, registry.codec, pool) for p in registry.SQL_PROJECTIONS),
        *(
            RedisProjectionRunner(p, store, registry.codec, redis, redis_prefix)
            for p in registry.REDIS_PROJECTIONS
        ),
    ]
    written = 0
    for n, size in enumerate(cuts * (1 + len(history) // len(cuts))):
        if written < len(history):  # the log grows while the daemon reads it
            for writes in history[written : written + rng.randint(1, 8)]:
                if isinstance(writes, tuple):
                    await erase_identity(store, *writes, at=story.now)
                else:
                    await store.append(writes)
                written += 1
            await readable(store, pool)
        (live,) = grouped(members, store, registry.codec, batch_size=size)
        if await live.step() == 0 and written == len(history) and n >= len(cuts):
            break
    for member in members:  # and at last to the head, Redis models marked ready
        await member.catch_up()
        await member.step()
    live_sql, live_redis = await dump_sql(pool), await redis_model(redis, redis_prefix)

    await rebuild(
        store=store,
        codec=registry.codec,
        pool=pool,
        redis=redis,
        redis_prefix=redis_prefix,
        sql_projections=registry.SQL_PROJECTIONS,
        redis_projections=registry.REDIS_PROJECTIONS,
        batch_size=cuts[0],
    )
    assert await dump_sql(pool) == live_sql
    assert await redis_model(redis, redis_prefix) == live_redis

    await build_replay(
        name="purity",
        as_of=await db_clock(pool),
        store=store,
        codec=registry.codec,
        pool=pool,
        redis=redis,
        redis_prefix=redis_prefix,
        sql_projections=registry.SQL_PROJECTIONS,
        redis_projections=registry.REDIS_PROJECTIONS,
        batch_size=cuts[-1],
    )
    assert await dump_sql(pool, replay_schema("purity")) == live_sql
    assert await redis_model(redis, replay_prefix(redis_prefix, "purity")) == live_redis
