"""The table of the table combinations read model, shared by its projection and its
queries.

The `table_combinations` projection keeps one table, `rm_table_combinations`: one row per
combination still offered (a removed one is deleted), of one venue (`venue_id`, part of
the key), with its tables, seats, name, the venue stream's version it was defined at, and
when it was defined.

It is a projection of its own rather than a table of the `venue` projection, so that on
the deployment that first has it, it reads the log from its start like any new read
model. The migration that made it keeps its literal SQL; a test checks that the table
named here exists in the migrated database.
"""

from __future__ import annotations

__all__ = ["ALL_TABLES", "COMBINATIONS", "NAME"]

NAME = "table_combinations"
COMBINATIONS = "rm_table_combinations"
ALL_TABLES = (COMBINATIONS,)
