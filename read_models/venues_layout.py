"""The table of the venue directory read model, shared by its projection and its queries.

The `venues` projection keeps one table, `rm_venues`: one row per venue that exists,
with its id, slug (unique), name, time zone, address, the version of its venue stream
the row was last changed at, and when it was opened and last changed.

The migration that made it keeps its literal SQL; a test checks that the columns named
here are the migrated table's.
"""

from __future__ import annotations

__all__ = ["ALL_TABLES", "COLUMNS", "NAME", "VENUES"]

NAME = "venues"
VENUES = "rm_venues"
COLUMNS = ("id", "slug", "name", "time_zone", "address", "version", "created_at", "updated_at")
ALL_TABLES = (VENUES,)
