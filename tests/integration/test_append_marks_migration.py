"""Migrations 0019 and 0020: the append function reports each written stream's last
event as a read would show it, and can be told which event a stream must end with; both
come and go with their migrations."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command

from booking_core.codec import codec
from booking_core.domain.events import TableAdded
from booking_core.store import NO_STREAM, StreamAppend, StreamMark
from booking_core.store.postgres import PostgresEventStore
from tablebook.database import alembic_config, open_pool
from tests.integration.test_sealed_events import NOW
from tests.support.migrated import database_at


@pytest.fixture
def at_head(database_url: str) -> Iterator[str]:
    with database_at(database_url, "head", "tb_append_marks") as url:
        yield url


@pytest.fixture
def at_0019(database_url: str) -> Iterator[str]:
    with database_at(database_url, "0019", "tb_append_marks") as url:
        yield url


def added(table_id: str) -> StreamAppend:
    event = TableAdded(table_id=table_id, name=table_id, capacity=4, added_at=NOW)
    return StreamAppend(f"table-{table_id}", NO_STREAM, [codec.encode(event), codec.encode(event)])


async def test_the_marks_name_the_last_events_as_read(at_head: str) -> None:
    pool = await open_pool(at_head, min_size=1, max_size=2)
    store = PostgresEventStore(pool, at_head)
    try:
        result = await store.append([added("a"), added("b")])
        assert set(result.marks) == {"table-a", "table-b"}
        for stream_id, mark in result.marks.items():
            last = (await store.read_stream(stream_id))[-1]
            assert mark == StreamMark.of(last)
            assert mark.marks(last)
    finally:
        await pool.close()


def test_the_last_event_check_comes_and_goes_with_its_migration(at_0019: str) -> None:
    config = alembic_config(at_0019)
    command.upgrade(config, "0020")
    command.downgrade(config, "0018")
    command.upgrade(config, "head")
