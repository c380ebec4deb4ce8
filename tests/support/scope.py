"""The venue the suite's stories, commands and requests run against.

The default venue unless `TABLEBOOK_TEST_VENUE` names another (`make test-venue` runs the
suite that way), so every test that writes a history and reads it back holds for a
venue whose streams, rows and keys carry its id as well as for the default one."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
from typing import Any, Final

import httpx
from psycopg_pool import AsyncConnectionPool

from booking_core.domain.commands import Actor, OpenVenue
from booking_core.domain.errors import VenueAlreadyOpen
from booking_core.domain.streams import DEFAULT_VENUE_ID, streams_of
from booking_core.handlers import change_registry
from booking_core.store import EventStore
from read_models.venues import resolve

__all__ = [
    "STREAMS",
    "STREAM_PREFIX",
    "TEST_VENUE",
    "TEST_VENUE_SLUG",
    "open_test_venue",
    "scoped_path",
    "to_test_venue",
    "wait_for_test_venue",
]

TEST_VENUE: Final = os.environ.get("TABLEBOOK_TEST_VENUE") or DEFAULT_VENUE_ID
STREAMS: Final = streams_of(TEST_VENUE)
STREAM_PREFIX: Final = STREAMS.venue.removesuffix("venue")
"""What the test venue's stream ids start with (nothing for the default venue)."""
TEST_VENUE_SLUG: Final = "suite-venue"

_DEPLOYMENT_ROUTES = (
    "/api/v1/auth/",
    "/api/v1/admin/users",
    "/api/v1/venues",
    "/api/v1/admin/venues",
)


async def open_test_venue(store: EventStore, time_zone: str = "UTC") -> None:
    """Open the suite's venue in the registry, so the directory finds it by id and slug
    (the default venue needs no opening: the unscoped routes address it)."""
    if TEST_VENUE == DEFAULT_VENUE_ID:
        return
    command = OpenVenue(
        venue_id=TEST_VENUE,
        command_id=f"open-{TEST_VENUE}",
        actor=Actor(user_id="setup", role="admin"),
        now=dt.datetime.now(dt.UTC),
        name="The suite's venue",
        slug=TEST_VENUE_SLUG,
        time_zone=time_zone,
    )
    with contextlib.suppress(VenueAlreadyOpen):  # opened by an earlier test of the run
        await change_registry(store, command)


async def wait_for_test_venue(pool: AsyncConnectionPool[Any], timeout: float = 30.0) -> None:
    """Wait until the venue directory (a projection) lists the suite's venue: requests
    address it by id, and the API finds a venue there."""
    if TEST_VENUE == DEFAULT_VENUE_ID:
        return
    deadline = asyncio.get_running_loop().time() + timeout
    while await resolve(pool, TEST_VENUE) is None:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"the directory never listed {TEST_VENUE}")
        await asyncio.sleep(0.05)


def scoped_path(path: str) -> str:
    """The path of a venue route for the suite's venue: `/api/v1/X` is the default
    venue's, `/api/v1/venues/{TEST_VENUE}/X` another's (the deployment's routes stay)."""
    if TEST_VENUE == DEFAULT_VENUE_ID or not path.startswith("/api/v1/"):
        return path
    if path.startswith(_DEPLOYMENT_ROUTES):
        return path
    return f"/api/v1/venues/{TEST_VENUE}/{path[8:]}"


async def to_test_venue(request: httpx.Request) -> None:
    """An httpx request hook: a venue route goes to the suite's venue. The tests speak
    the unscoped API; with another venue the same requests address
    `/api/v1/venues/{TEST_VENUE}` (the raw path is kept: a test may send bytes that are
    not text, on purpose)."""
    raw = request.url.raw_path
    scoped = scoped_path(request.url.path).encode()
    if scoped != request.url.path.encode():
        prefix = f"/api/v1/venues/{TEST_VENUE}/".encode()
        request.url = request.url.copy_with(raw_path=prefix + raw[len(b"/api/v1/") :])
