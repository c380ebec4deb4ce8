"""The Redis layout of the availability model, shared by its projection and its reads.

Under `{prefix}availability:`, for each venue under its own part of the root (`venue_part`:
nothing for the default venue, whose keys kept their names when there came to be several
venues, `{venue_id}/` for any other):

| key | type | content |
|---|---|---|
| `venue` | hash | `hours`: opening hours JSON; `slots`: slot settings JSON |
| `closures` | hash | ISO date -> reason |
| `tables` | hash | table id -> `{name, capacity, min_capacity, area}` JSON |
| `retired` | hash | table id -> `1` |
| `combinations` | hash | combination id -> `{table_ids, min_capacity, capacity, name}` JSON |
| `day:{service date}` | hash | `table|b|booking` or `table|k|block` -> `start,end` |
| `version` | string | the last event applied to this venue's keys, `tx-position` (1) |

(1) After a rebuild of the venue alone, `tx-position+r{random}`: a version no snapshot
cached before the rebuild can have.

(Interval ends are epoch seconds, the start rounded down and the end up, so that a block
placed at an instant with a fraction of a second overlaps a turn exactly when it does in
the decider; `b` marks a booking's reservation, `k` a block.)

The `checkpoint` and `ready` keys beside them are named in `read_models.model_keys`.

Every write is idempotent per event: a reservation is a field set to the same value
however often it is applied, a release deletes that field.

The checkpoint is the model's version: every write moves it in the same Lua call, and a
rebuild's swap replaces it with the rest. A venue's `version` moves with every write to
that venue's keys, in the same call. The reads cache a venue's parsed snapshots by its
`version` (by the checkpoint while a venue has none yet, as one projected before venues
had them), so a write to one venue leaves the others' cached snapshots valid; nothing may
write under a venue's keys without moving its `version` (or deleting it).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import msgspec

from booking_core.domain.streams import DEFAULT_VENUE_ID

__all__ = [
    "BLOCK",
    "BOOKING",
    "CLOSURES",
    "COMBINATIONS",
    "HOURS",
    "NAME",
    "RETIRED",
    "SLOTS",
    "TABLES",
    "VENUE",
    "VERSION",
    "CombinationFacts",
    "TableFacts",
    "day_key_part",
    "interval_field",
    "parse_field",
    "span_seconds",
    "span_value",
    "venue_part",
]

NAME = "availability"
VENUE = "venue"
HOURS = "hours"
SLOTS = "slots"
CLOSURES = "closures"
TABLES = "tables"
RETIRED = "retired"
COMBINATIONS = "combinations"
VERSION = "version"
BOOKING = "b"
BLOCK = "k"


class TableFacts(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    capacity: int
    min_capacity: int
    area: str | None = None


class CombinationFacts(msgspec.Struct, frozen=True, kw_only=True):
    table_ids: tuple[str, ...]
    min_capacity: int
    capacity: int
    name: str | None = None


def venue_part(venue_id: str) -> str:
    """Where a venue's keys start under the model's root."""
    return "" if venue_id == DEFAULT_VENUE_ID else f"{venue_id}/"


def day_key_part(service_date: date) -> str:
    return f"day:{service_date.isoformat()}"


def interval_field(table_id: str, kind: str, ref: str) -> str:
    return f"{table_id}|{kind}|{ref}"


def parse_field(field: str) -> tuple[str, str, str]:
    table_id, kind, ref = field.rsplit("|", 2)
    return table_id, kind, ref


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)


def span_seconds(starts_at: datetime, ends_at: datetime) -> tuple[int, int]:
    """`[starts_at, ends_at)` in whole epoch seconds that overlap the same whole-second
    periods it does: the start rounded down, the end rounded up."""
    return (starts_at - _EPOCH) // _SECOND, -((_EPOCH - ends_at) // _SECOND)


def span_value(starts_at: datetime, ends_at: datetime) -> str:
    start, end = span_seconds(starts_at, ends_at)
    return f"{start},{end}"
