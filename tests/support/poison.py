"""Two projections that refuse an event until told otherwise, and the `tablebook` command
with them registered beside the real ones: a real daemon that meets a poison event.

Both count the tables added per stream. They refuse a `TableAdded` whose name is listed
in the file named by `POISON_FILE` (one name a line), read on each batch, so emptying the
file removes the cause. `python -m tests.support.poison ARGS` is `tablebook ARGS`.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from psycopg import AsyncConnection, sql

import projectors.registry as registry
from booking_core.domain.events import TableAdded
from projectors.base import Decoded, KeySpace, RedisCommand, TableNames

SQL_NAME = "poison_counts"
REDIS_NAME = "poison_marks"
TABLE = "test_poison_counts"


class Poisoned(Exception):
    """The projection's own refusal: an error of its code, not of a server."""


def _refuse_poison(batch: Sequence[Decoded]) -> None:
    path = os.environ.get("POISON_FILE")
    poison = set(Path(path).read_text().split()) if path and Path(path).exists() else set()
    for _, event in batch:
        if isinstance(event, TableAdded) and event.name in poison:
            raise Poisoned(f"table name {event.name} is refused")


class PoisonCounts:
    """Adds each batch's events to a count per stream: anything applied twice shows."""

    name: ClassVar[str] = SQL_NAME
    tables: ClassVar[tuple[str, ...]] = (TABLE,)

    async def apply(
        self, connection: AsyncConnection[Any], tables: TableNames, batch: Sequence[Decoded]
    ) -> None:
        _refuse_poison(batch)
        counts = Counter(record.stream_id for record, _ in batch)
        async with connection.cursor() as cursor:
            await cursor.executemany(
                sql.SQL(
                    "INSERT INTO {t} AS t (stream_id, events) VALUES (%s, %s)"
                    " ON CONFLICT (stream_id) DO UPDATE SET events = t.events + excluded.events"
                ).format(t=tables[TABLE]),
                list(counts.items()),
            )


class PoisonMarks:
    """Marks each event's version in a hash per stream (idempotent per event)."""

    name: ClassVar[str] = REDIS_NAME

    def commands(self, keys: KeySpace, batch: Sequence[Decoded]) -> list[RedisCommand]:
        _refuse_poison(batch)
        return [("HSET", keys.key("stream", r.stream_id), r.version, "1") for r, _ in batch]


def register() -> None:
    registry.SQL_PROJECTIONS = (*registry.SQL_PROJECTIONS, PoisonCounts())  # type: ignore[misc]
    registry.REDIS_PROJECTIONS = (*registry.REDIS_PROJECTIONS, PoisonMarks())  # type: ignore[misc]


if __name__ == "__main__":
    from tablebook.cli import main

    register()
    sys.exit(main(sys.argv[1:]))
