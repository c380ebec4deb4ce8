"""The tables of the venue read model, shared by its projection and its queries.

The `venue` projection keeps five tables, one row per thing the floor is made of, each
row of one venue (`venue_id`, part of the key: a table id is unique within its venue):

| table | one row per |
|---|---|
| `rm_tables` | table, retired ones included |
| `rm_layouts` | layout (deleted ones are removed) |
| `rm_venue` | venue: opening hours and slot settings |
| `rm_closures` | closed date, with its reason |
| `rm_blocks` | block still placed on a table |

The migrations that made them keep their literal SQL; a test checks that each table
named here exists in the migrated database.
"""

from __future__ import annotations

__all__ = ["ALL_TABLES", "BLOCKS", "CLOSURES", "LAYOUTS", "NAME", "TABLES", "VENUE"]

NAME = "venue"
TABLES = "rm_tables"
LAYOUTS = "rm_layouts"
VENUE = "rm_venue"
CLOSURES = "rm_closures"
BLOCKS = "rm_blocks"
ALL_TABLES = (TABLES, LAYOUTS, VENUE, CLOSURES, BLOCKS)
