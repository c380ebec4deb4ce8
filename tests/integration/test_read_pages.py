"""Reading the log a page at a time costs a page, however much of the log lies after it:
a rebuild of ten million events must not read the rest of the log for every page.

The planner cannot tell how many events lie past a `(tx, position)`; guessing few, it
once joined all of them to the person keys and sorted them to keep a page (3 s a page
with 1,500,000 events to go). So the page must be cut where the events are scanned,
before any join, whatever the planner guesses: that is what the plan is checked for."""

from __future__ import annotations

from typing import Any

from psycopg_pool import AsyncConnectionPool

from booking_core.store.postgres import _SELECT_ALL, PostgresEventStore

EVENTS = 20_000
PAGE = 100


def _scans_of_events(plan: dict[str, Any], above: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Each scan of `events` in the plan, as the node types from the top down to it."""
    path = (*above, plan["Node Type"])
    found = [path] if plan.get("Relation Name") == "events" else []
    for child in plan.get("Plans", []):
        found += _scans_of_events(child, path)
    return found


def _actual_rows(plan: dict[str, Any]) -> list[int]:
    rows = [plan["Actual Rows"]] if plan.get("Relation Name") == "events" else []
    for child in plan.get("Plans", []):
        rows += _actual_rows(child)
    return rows


async def test_a_page_of_the_log_reads_a_page_of_events_however_many_follow(
    clean_store: PostgresEventStore, pool: AsyncConnectionPool[Any]
) -> None:
    async with pool.connection() as connection:
        # one transaction, as a bulk load or a restore leaves them: the planner cannot
        # tell how many of them lie past a (tx, position)
        async with connection.transaction():
            await connection.execute(
                "INSERT INTO events (stream_id, version, type, data)"
                " SELECT 'table-' || n, 1, 'TableAdded', jsonb_build_object('table_id', n::text)"
                " FROM generate_series(1, %s) AS n",
                (EVENTS,),
            )
        await connection.execute("ANALYZE events")
        cursor = await connection.execute(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + _SELECT_ALL,
            {
                "tx": "0",
                "position": 0,
                "prefix": None,
                "venue": None,
                "types": None,
                "from": None,
                "before": None,
                "limit": PAGE,
            },
        )
        row = await cursor.fetchone()
    assert row is not None
    plan = row[0][0]["Plan"]
    scans = _scans_of_events(plan)
    assert scans, "the plan reads events"
    for path in scans:
        below_limit = path[len(path) - 1 - path[::-1].index("Limit") :] if "Limit" in path else ()
        assert below_limit, f"no page limit above the scan: {path}"
        joins = ("Join", "Nested Loop", "Hash")
        assert not any(j in node for node in below_limit for j in joins), path
    assert all(rows <= PAGE for rows in _actual_rows(plan))
    assert len(await clean_store.read_all(limit=PAGE)) == PAGE
