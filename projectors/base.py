"""What a projection is: a name, the state it owns, and how a batch of events changes it.

Two kinds:

- `SqlProjection` owns tables. A batch is applied inside one transaction that also moves
  its checkpoint, so each event lands exactly once.
- `RedisProjection` owns a key namespace. A batch becomes a list of Redis commands that a
  Lua script runs atomically with the checkpoint move, and only if the checkpoint is still
  the one the batch was read after.

Both are written against names handed in (`TableNames`, `KeySpace`) rather than fixed
ones, so a rebuild can fill a fresh copy with the same code and swap it in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Protocol

from psycopg import AsyncConnection, sql

from booking_core.codec import Event
from booking_core.domain.streams import venue_of
from booking_core.store import RecordedEvent
from read_models.model_keys import REBUILD_NAMESPACE, checkpoint_key, model_root, ready_key

__all__ = [
    "Decoded",
    "KeySpace",
    "RedisCommand",
    "RedisProjection",
    "SqlProjection",
    "TableNames",
    "by_venue",
]

Decoded = tuple[RecordedEvent, Event]
RedisCommand = tuple[str | int, ...]


def by_venue(batch: Sequence[Decoded]) -> dict[str, list[Decoded]]:
    """The batch's events by the venue of their stream, each venue's in their order: for a
    projection that keeps state per venue and applies a batch venue by venue."""
    found: dict[str, list[Decoded]] = {}
    for decoded in batch:
        found.setdefault(venue_of(decoded[0].stream_id), []).append(decoded)
    return found


class TableNames:
    """Maps the tables a projection owns to the physical tables of this run: the live
    ones, rebuild copies beside them, or copies in another schema (a replay)."""

    def __init__(self, mapping: dict[str, str], schema: str | None = None) -> None:
        self._mapping = mapping
        self.schema = schema

    @classmethod
    def live(cls, tables: Sequence[str]) -> TableNames:
        return cls({t: t for t in tables})

    @classmethod
    def rebuild(cls, tables: Sequence[str]) -> TableNames:
        return cls({t: f"{t}__rebuild" for t in tables})

    @classmethod
    def in_schema(cls, schema: str, tables: Sequence[str]) -> TableNames:
        return cls({t: t for t in tables}, schema)

    def __getitem__(self, table: str) -> sql.Identifier:
        if self.schema is None:
            return sql.Identifier(self._mapping[table])
        return sql.Identifier(self.schema, self._mapping[table])

    def physical(self, table: str) -> str:
        return self._mapping[table]

    def items(self) -> list[tuple[str, str]]:
        return list(self._mapping.items())


class KeySpace:
    """The Redis keys of one projection: `{prefix}{namespace}{projection}:...`, where the
    namespace says whose copy it is (the live model's, a rebuild's, a replay's; named in
    `read_models.model_keys`)."""

    def __init__(
        self, prefix: str, projection: str, *, rebuilding: bool = False, namespace: str = ""
    ) -> None:
        self.prefix = prefix
        self.projection = projection
        namespace = REBUILD_NAMESPACE if rebuilding else namespace
        self.root = model_root(prefix, projection, namespace)

    def key(self, *parts: str) -> str:
        return self.root + ":".join(parts)

    @property
    def checkpoint(self) -> str:
        return checkpoint_key(self.root)

    @property
    def ready(self) -> str:
        return ready_key(self.root)


class SqlProjection(Protocol):
    name: ClassVar[str]
    tables: ClassVar[tuple[str, ...]]

    async def apply(
        self, connection: AsyncConnection[Any], tables: TableNames, batch: Sequence[Decoded]
    ) -> None:
        """Apply the batch; the caller holds the transaction and moves the checkpoint."""
        ...


class RedisProjection(Protocol):
    name: ClassVar[str]

    def commands(self, keys: KeySpace, batch: Sequence[Decoded]) -> list[RedisCommand]:
        """The Redis commands that apply the batch, each idempotent for its event."""
        ...
