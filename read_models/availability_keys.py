"""The Redis layout of the availability model, shared by its projection and its reads.

Under `{prefix}availability:`:

| key | type | content |
|---|---|---|
| `venue` | hash | `hours`: opening hours JSON; `slots`: slot settings JSON |
| `closures` | hash | ISO date -> reason |
| `tables` | hash | table id -> `{name, capacity, min_capacity, area}` JSON |
| `retired` | hash | table id -> `1` |
| `day:{service date}` | hash | `table|b|booking` or `table|k|block` -> `start,end` |

(Interval ends are epoch seconds; `b` marks a booking's reservation, `k` a block.)
| `checkpoint` | string | the last event applied, `tx-position` |
| `ready` | string | present once the model has caught up with the log |

Every write is idempotent per event: a reservation is a field set to the same value
however often it is applied, a release deletes that field.

The checkpoint is the model's version: every write moves it in the same Lua call, and a
rebuild's swap replaces it with the rest. The reads cache parsed snapshots by it, so
nothing may write under this root without moving the checkpoint (or deleting it).
"""

from __future__ import annotations

from datetime import date

import msgspec

__all__ = ["NAME", "TableFacts", "day_key_part", "interval_field", "parse_field"]

NAME = "availability"
BOOKING = "b"
BLOCK = "k"


class TableFacts(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    capacity: int
    min_capacity: int
    area: str | None = None


def day_key_part(service_date: date) -> str:
    return f"day:{service_date.isoformat()}"


def interval_field(table_id: str, kind: str, ref: str) -> str:
    return f"{table_id}|{kind}|{ref}"


def parse_field(field: str) -> tuple[str, str, str]:
    table_id, kind, ref = field.rsplit("|", 2)
    return table_id, kind, ref
