"""Each read model's layout is spelled once, in `read_models/`; the migrations that made
its tables are history and keep their own SQL. These tests hold the two together: the
columns the owner names are the columns the migrated table has, in the same order."""

from __future__ import annotations

from typing import Any

from psycopg_pool import AsyncConnectionPool

from read_models import (
    bookings_layout,
    combinations_layout,
    guests_layout,
    stats_layout,
    venue_layout,
    venues_layout,
    waitlist_layout,
)


async def _columns(pool: AsyncConnectionPool[Any], table: str) -> list[str]:
    async with pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = %s"
            " ORDER BY ordinal_position",
            (table,),
        )
        return [row[0] for row in await cursor.fetchall()]


async def test_the_bookings_layout_names_every_column_the_migrations_made(
    pool: AsyncConnectionPool[Any],
) -> None:
    migrated = await _columns(pool, bookings_layout.TABLE)
    # A column added later comes last in the table, not where the row type names it:
    # the projection and the queries name their columns, so only the names must agree.
    assert sorted(migrated) == sorted(
        [*bookings_layout.COLUMNS, *bookings_layout.GENERATED_COLUMNS]
    )
    assert len(migrated) == len(set(migrated))


async def test_the_bookings_layout_gives_each_column_its_migrated_type(
    pool: AsyncConnectionPool[Any],
) -> None:
    async with pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT column_name, format_type(atttypid, atttypmod)"
            " FROM information_schema.columns"
            " JOIN pg_attribute ON attrelid = %s::regclass AND attname = column_name"
            " WHERE table_schema = current_schema() AND table_name = %s",
            (bookings_layout.TABLE, bookings_layout.TABLE),
        )
        migrated = dict(await cursor.fetchall())
    aliases = {
        "int4": "integer",
        "timestamptz": "timestamp with time zone",
        "time": "time without time zone",
    }
    for column, copy_type in zip(
        bookings_layout.COLUMNS, bookings_layout.COLUMN_TYPES, strict=True
    ):
        assert migrated[column] == aliases.get(copy_type, copy_type), column


async def test_every_table_the_venue_stats_and_combinations_layouts_name_was_migrated(
    pool: AsyncConnectionPool[Any],
) -> None:
    for table in (
        *venue_layout.ALL_TABLES,
        *stats_layout.ALL_TABLES,
        *combinations_layout.ALL_TABLES,
    ):
        assert await _columns(pool, table), f"{table} is not in the migrated database"


async def test_the_venues_layout_names_every_column_of_the_directory(
    pool: AsyncConnectionPool[Any],
) -> None:
    assert await _columns(pool, venues_layout.VENUES) == [
        *venues_layout.COLUMNS,
        *venues_layout.GENERATED_COLUMNS,
    ]


async def test_the_waitlist_layout_names_every_column_of_its_table(
    pool: AsyncConnectionPool[Any],
) -> None:
    assert await _columns(pool, waitlist_layout.TABLE) == list(waitlist_layout.COLUMNS)


async def test_the_guests_layout_names_every_column_of_its_tables(
    pool: AsyncConnectionPool[Any],
) -> None:
    assert await _columns(pool, guests_layout.GUESTS) == list(guests_layout.COLUMNS)
    assert await _columns(pool, guests_layout.BOOKINGS) == list(guests_layout.BOOKING_COLUMNS)
