"""The venue the suite's stories and reads run against.

The default venue unless `TABLEBOOK_TEST_VENUE` names another (`make test-venue` runs the
suite that way), so every test that writes a history and reads it back holds for a
venue whose streams, rows and keys carry its id as well as for the default one."""

from __future__ import annotations

import os
from typing import Final

from booking_core.domain.streams import DEFAULT_VENUE_ID, streams_of

__all__ = ["STREAMS", "STREAM_PREFIX", "TEST_VENUE"]

TEST_VENUE: Final = os.environ.get("TABLEBOOK_TEST_VENUE") or DEFAULT_VENUE_ID
STREAMS: Final = streams_of(TEST_VENUE)
STREAM_PREFIX: Final = STREAMS.venue.removesuffix("venue")
"""What the test venue's stream ids start with (nothing for the default venue)."""
