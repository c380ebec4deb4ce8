"""The Redis layout of the live-status model, shared by its projection and the live feed.

Under `{prefix}live_status:`:

| key | type | content |
|---|---|---|
| `date:{service date}` | stream | a capped stream, one entry per table status change |

Each venue's streams sit under its own part of the root (`venue_part`: nothing for the
default venue, `{venue_id}/` for any other), so a venue's feed never carries another's.

(Entry fields: `table_id`, `date`, `time`, `status`, `ref`, `at`.)

Each day is its own capped stream, so the live feed of one evening reads only that
evening's changes. The `checkpoint` and `ready` keys beside them are named in
`read_models.model_keys`.
"""

from __future__ import annotations

import datetime as dt

from read_models.availability_keys import venue_part
from read_models.model_keys import model_root

__all__ = ["NAME", "stream_key", "stream_key_part"]

NAME = "live_status"


def stream_key_part(venue_id: str, service_date: str) -> str:
    """The stream's key under the model's root (the projection writes under a root of
    its own run: live, rebuild copy or replay)."""
    return f"{venue_part(venue_id)}date:{service_date}"


def stream_key(prefix: str, venue_id: str, service_date: dt.date) -> str:
    """The live model's stream for one venue's service date."""
    return model_root(prefix, NAME) + stream_key_part(venue_id, service_date.isoformat())
