"""An analyst's `--venue`: the export and the replay of one venue hold exactly that
venue's events, whatever the other venues are called; the venue is named by id or slug;
an unknown venue is one clear line and exit 2."""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from psycopg_pool import AsyncConnectionPool

from booking_core.domain.streams import streams_of, venue_of
from booking_core.store import RecordedEvent, StreamAppend
from booking_core.store.postgres import PostgresEventStore
from tablebook.cli import main
from tablebook.export import ExportRequest, write_export
from tablebook.venue_lookup import resolve_venue
from tests.integration.test_export import READERS, read_jsonl, stored
from tests.integration.test_replay import db_clock, readable
from tests.support.story import Story

VENUES = {"default": 3, "ven_a": 5, "ven_ab": 7, "ven%": 11}
"""Each venue's story (by seed): ids that are prefixes of each other, and a LIKE wildcard."""
SLUGS = {"ven_a": "harbour-kitchen", "ven_ab": "harbour-kitchen-annex", "ven%": "percent-bar"}


@pytest.fixture
async def events(
    clean_store: PostgresEventStore, pool: AsyncConnectionPool[Any]
) -> list[RecordedEvent]:
    stories = [Story(seed=seed, streams=streams_of(venue)) for venue, seed in VENUES.items()]
    for story in stories:
        for writes in story.opening():
            await clean_store.append(writes)
    for _ in range(30):
        for story in stories:
            if step := story.random_step():
                await clean_store.append(step)
    opening = Story(seed=13, streams=streams_of("default")).opening()[0]
    await clean_store.append(
        [StreamAppend("registry/venues", w.expected, w.events) for w in opening]
    )
    await readable(clean_store, pool)
    return await clean_store.read_all(limit=100_000)


def of(events: list[RecordedEvent], venue: str) -> list[RecordedEvent]:
    return [e for e in events if venue_of(e.stream_id) == venue]


@pytest.fixture
async def directory(pool: AsyncConnectionPool[Any]) -> AsyncIterator[None]:
    """The venue directory holding the three named venues (the table made here if this
    database has none yet, and dropped again)."""
    async with pool.connection() as connection:
        cursor = await connection.execute("SELECT to_regclass('rm_venues') IS NULL")
        row = await cursor.fetchone()
        made = bool(row and row[0])
        if made:
            await connection.execute(
                "CREATE TABLE rm_venues (id text PRIMARY KEY, slug text UNIQUE NOT NULL,"
                " name text, time_zone text, address text, version int,"
                " created_at timestamptz, updated_at timestamptz)"
            )
        now = datetime(2026, 11, 25, 9, tzinfo=UTC)
        for venue_id, slug in SLUGS.items():
            await connection.execute(
                "INSERT INTO rm_venues (id, slug, name, time_zone, address, version,"
                " created_at, updated_at) VALUES (%s, %s, %s, %s, NULL, 1, %s, %s)",
                (venue_id, slug, slug.replace("-", " ").title(), "Europe/Amsterdam", now, now),
            )
    try:
        yield
    finally:
        async with pool.connection() as connection:
            if made:
                await connection.execute("DROP TABLE rm_venues")
            else:
                await connection.execute("DELETE FROM rm_venues WHERE id = ANY(%s)", (list(SLUGS),))


@pytest.mark.parametrize("format", ["jsonl", "csv", "parquet"])
@pytest.mark.parametrize("venue", list(VENUES))
async def test_a_venues_export_holds_exactly_its_events(
    format: str, venue: str, clean_store: PostgresEventStore, events: list[RecordedEvent]
) -> None:
    out = io.BytesIO()
    request = ExportRequest.parse(format=format, venue=venue)
    await write_export(clean_store, request, out, page=40)
    expected = of(events, venue)
    assert len(expected) > 40, "the story spans several pages"
    assert READERS[format](out.getvalue()) == stored(expected)


async def test_the_venue_filter_goes_with_the_others(
    clean_store: PostgresEventStore, events: list[RecordedEvent]
) -> None:
    out = io.BytesIO()
    request = ExportRequest.parse(format="jsonl", venue="ven_a", types=["BookingPlaced"])
    await write_export(clean_store, request, out)
    expected = [e for e in of(events, "ven_a") if e.type == "BookingPlaced"]
    assert expected
    assert read_jsonl(out.getvalue()) == stored(expected)


@pytest.fixture
def cli_env(
    monkeypatch: pytest.MonkeyPatch, database_url: str, redis_url: str, redis_prefix: str
) -> dict[str, str]:
    env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "REDIS_PREFIX": redis_prefix}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return {**os.environ, **env}


async def test_the_command_takes_a_venue_by_its_slug(
    events: list[RecordedEvent], directory: None, cli_env: dict[str, str], tmp_path: Path
) -> None:
    target = tmp_path / "annex.jsonl"
    argv = ["events", "export", "--format", "jsonl", "--venue", "harbour-kitchen-annex"]
    assert await asyncio.to_thread(main, [*argv, "-o", str(target)]) == 0
    assert read_jsonl(target.read_bytes()) == stored(of(events, "ven_ab"))


async def test_an_unknown_venue_is_one_line_and_exit_2(
    events: list[RecordedEvent],
    directory: None,
    cli_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    for venue in ("harbour", "ven_", "a/b"):
        argv = ["events", "export", "--format", "csv", "--venue", venue]
        assert await asyncio.to_thread(main, argv) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        (line,) = captured.err.strip().splitlines()
        assert line.startswith(f"tablebook: unknown venue {venue!r}")


async def test_the_directory_answers_ids_slugs_and_the_default_venue(
    pool: AsyncConnectionPool[Any], directory: None
) -> None:
    assert await resolve_venue(pool, "ven_a") == "ven_a"
    assert await resolve_venue(pool, "harbour-kitchen") == "ven_a"
    assert await resolve_venue(pool, "percent-bar") == "ven%"
    assert await resolve_venue(pool, "default") == "default"


async def test_a_venues_replay_applies_only_its_events(
    events: list[RecordedEvent],
    pool: AsyncConnectionPool[Any],
    directory: None,
    redis: Any,
    cli_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    instant = (await db_clock(pool)).isoformat().replace("+00:00", "Z")
    argv = ["replay", "--as-of", instant, "--into", "kitchen", "--venue", "harbour-kitchen"]
    assert await asyncio.to_thread(main, argv) == 0
    expected = len(of(events, "ven_a"))
    assert f"replay kitchen: {expected} events of venue ven_a" in capsys.readouterr().out
    async with pool.connection() as connection:
        cursor = await connection.execute("SELECT events FROM replay_kitchen.replay_info")
        assert await cursor.fetchone() == (expected,)
        cursor = await connection.execute("SELECT count(*) FROM replay_kitchen.rm_bookings")
        row = await cursor.fetchone()
    placed = {e.stream_id for e in of(events, "ven_a") if e.type == "BookingPlaced"}
    assert row == (len(placed),)
    assert await asyncio.to_thread(main, ["replay", "drop", "kitchen"]) == 0
    unknown = ["replay", "--as-of", instant, "--into", "nowhere", "--venue", "harbour"]
    assert await asyncio.to_thread(main, unknown) == 2
    assert "unknown venue 'harbour'" in capsys.readouterr().err
