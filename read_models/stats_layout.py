"""The tables of the stats read model, shared by its projection and its queries.

Every row is of one venue (`venue_id`, part of every key but `rm_stats_bookings`'s).

| table | one row per |
|---|---|
| `rm_daily_stats` | service date: bookings, covers, cancellations, no-shows, occupancy |
| `rm_daily_breakdown` | service date and breakdown cell (source, party size) |
| `rm_stats_bookings` | booking: what the projection needs to undo its counts |
| `rm_stats_floor` | venue's floor: hours, closures, table capacities |

The migrations that made them keep their literal SQL; a test checks that each table
named here exists in the migrated database.
"""

from __future__ import annotations

__all__ = ["ALL_TABLES", "BOOKINGS", "BREAKDOWN", "DAILY", "FLOOR", "NAME"]

NAME = "stats"
DAILY = "rm_daily_stats"
BREAKDOWN = "rm_daily_breakdown"
BOOKINGS = "rm_stats_bookings"
FLOOR = "rm_stats_floor"
ALL_TABLES = (DAILY, BREAKDOWN, BOOKINGS, FLOOR)
