"""Migration 0023: reading several streams goes through `tb_read_streams`, which answers
exactly what the bare statement it replaced answered, keeps one generic plan, and comes
and goes with its migration."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from alembic import command

from booking_core.codec import codec
from booking_core.domain.events import TableAdded
from booking_core.store import NO_STREAM, StreamAppend
from booking_core.store.postgres import RECORD_COLUMNS, WITH_KEYS, PostgresEventStore
from tablebook.database import alembic_config, open_pool
from tests.integration.test_sealed_events import NOW, STREAMS, VENUE, book, erased_event, placed
from tests.support.migrated import database_at

# The statement every read of several streams ran before 0023, kept as the reference.
BARE_JOIN = f"""
SELECT {RECORD_COLUMNS}
FROM events JOIN unnest(%s::text[], %s::int[]) AS wanted(stream_id, from_version)
  ON events.stream_id = wanted.stream_id
{WITH_KEYS}
WHERE events.version >= wanted.from_version ORDER BY events.stream_id, events.version
"""


@pytest.fixture
def at_head(database_url: str) -> Iterator[str]:
    with database_at(database_url, "head", "tb_read_streams") as url:
        yield url


def added(table_id: str, count: int) -> StreamAppend:
    event = TableAdded(table_id=table_id, name=table_id, capacity=4, added_at=NOW)
    return StreamAppend(f"table-{table_id}", NO_STREAM, [codec.encode(event)] * count)


async def test_the_function_answers_what_the_bare_join_answered(at_head: str) -> None:
    pool = await open_pool(at_head, min_size=1, max_size=2)
    store = PostgresEventStore(pool, at_head)
    try:
        await store.append([added("a", 3), added("b", 1)])
        await book(store, placed("bk-kept", "Ada Lovelace", "ada@example.org"))
        grace = await book(store, placed("bk-gone", "Grace Hopper", "grace@example.org"))
        gone, _ = await store.erase({VENUE: [grace]}, erased_event)
        assert gone == [(VENUE, grace)]
        gone_stream, kept_stream = STREAMS.booking("bk-gone"), STREAMS.booking("bk-kept")
        wanted = ["table-b", gone_stream, "table-a", kept_stream, "missing"]
        starts = [1, 1, 2, 1, 1]
        async with pool.connection() as connection:
            cursor = await connection.execute(BARE_JOIN, (wanted, starts))
            reference: list[Any] = await cursor.fetchall()
            cursor = await connection.execute(
                "SELECT * FROM tb_read_streams(%s::text[], %s::int[])", (wanted, starts)
            )
            assert await cursor.fetchall() == reference
        assert len(reference) == 2 + 1 + 2  # table-a from 2, table-b, both bookings
        assert any(row[-1] is not None for row in reference)  # a key joined in
        assert any(row[-1] is None and b"_sealed" in row[6] for row in reference)  # erased
        found = await store.read_streams(wanted, dict(zip(wanted, starts, strict=True)))
        assert [e.version for e in found["table-a"]] == [2, 3]
        assert found["missing"] == []
    finally:
        await pool.close()


def test_its_calls_keep_one_generic_plan_of_index_scans(at_head: str) -> None:
    """The plan each connection keeps, shown by auto_explain, made at sizes where a
    generic plan scanned the whole table: empty and never analyzed, and analyzed with 60
    and with 4,000 events (a plan kept from then would scan every event later)."""
    with psycopg.connect(at_head, autocommit=True) as connection:
        row = connection.execute(
            "SELECT proconfig FROM pg_proc WHERE proname = 'tb_read_streams'"
        ).fetchone()
    assert row == (["plan_cache_mode=force_generic_plan", "enable_seqscan=off"],)
    written = 0
    for size, analyze in ((0, False), (60, True), (4000, True)):
        with psycopg.connect(at_head, autocommit=True) as connection:
            connection.execute(
                "INSERT INTO events (stream_id, version, type, data)"
                " SELECT 'booking-' || (n / 2), n %% 2 + 1, 'X', '{}'"
                " FROM generate_series(%s, %s - 1) n",
                (written, size),
            )
            written = max(written, size)
            if analyze:
                connection.execute("ANALYZE events, person_keys")
        plans = _plans_of_reads(at_head, calls=8)  # past the five after which plans switch
        assert len(plans) == 8, plans
        for plan in plans:
            assert "Index Scan using events_stream_version" in plan, plan
            assert "Index Scan using person_keys_pkey" in plan, plan
            assert "Seq Scan" not in plan, plan


def _plans_of_reads(url: str, calls: int) -> list[str]:
    """The plans auto_explain shows for the queries inside `calls` reads on a connection
    of its own (so each starts with no plan kept)."""
    with psycopg.connect(url, autocommit=True) as connection:
        try:
            connection.execute("LOAD 'auto_explain'")
        except psycopg.errors.UndefinedFile:
            pytest.skip("this PostgreSQL has no auto_explain")
        for setting in (
            "auto_explain.log_min_duration = 0",
            "auto_explain.log_nested_statements = on",
            "auto_explain.log_level = notice",
            "client_min_messages = notice",
        ):
            connection.execute(f"SET {setting}")
        notices: list[str] = []
        connection.add_notice_handler(lambda notice: notices.append(notice.message_primary or ""))
        for _ in range(calls):
            connection.execute(
                "SELECT * FROM tb_read_streams(%s::text[], %s::int[])",
                (["booking-1", "booking-2"], [1, 1]),
            )
    return [notice for notice in notices if "FROM events" in notice or "on events" in notice]


def test_the_function_comes_and_goes_with_its_migration(at_head: str) -> None:
    config = alembic_config(at_head)
    command.downgrade(config, "0022")
    with psycopg.connect(at_head) as connection:
        gone = connection.execute("SELECT to_regproc('tb_read_streams')").fetchone()
    assert gone == (None,)
    command.upgrade(config, "head")
    with psycopg.connect(at_head) as connection:
        back = connection.execute("SELECT to_regproc('tb_read_streams')::text").fetchone()
    assert back == ("tb_read_streams",)
