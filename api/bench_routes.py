"""Routes that exist only for `make bench`: what the framework alone costs, on the same
server, beside what a route of ours costs.

Mounted when `TABLEBOOK_BENCH_ROUTES=1` (off by default, refused in production):

- `GET /bench/hello`: a hello-world route, the ceiling for a read.
- `POST /bench/write`: one PostgreSQL write transaction per request, an INSERT of an
  event-sized row into `bench_writes` (which the benchmark creates), through the same
  pool and middleware as every route: the ceiling for a write. Its body is ignored, so
  the row is the same size whatever the client sends.
"""

from __future__ import annotations

import msgspec
from litestar import get, post
from litestar.di import NamedDependency

from api.services import Services

__all__ = ["BENCH_ROUTES", "BENCH_WRITES_DDL", "hello", "write"]

BENCH_WRITES_DDL = (
    "CREATE TABLE IF NOT EXISTS bench_writes ("
    " position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " stream_id text NOT NULL, version integer NOT NULL, type text NOT NULL,"
    " data bytea NOT NULL, metadata jsonb NOT NULL,"
    " recorded_at timestamptz NOT NULL DEFAULT now())"
)
"""The shape of an `events` row, without the store's constraints and triggers."""

# About what a BookingRequested event's row holds: sealed guest fields and the metadata.
_DATA = b"\x01" * 420
_METADATA = '{"command_id": "00000000-0000-0000-0000-000000000000", "actor": "bench"}'


class Hello(msgspec.Struct, frozen=True):
    hello: str


class Written(msgspec.Struct, frozen=True):
    position: int


@get("/bench/hello", summary="Hello world, for benchmarks only", include_in_schema=False)
async def hello() -> Hello:
    return Hello(hello="world")


@post(
    "/bench/write",
    summary="One INSERT per request, for benchmarks only",
    include_in_schema=False,
    status_code=201,
)
async def write(services: NamedDependency[Services]) -> Written:
    async with services.pool.connection() as connection:
        cursor = await connection.execute(
            "INSERT INTO bench_writes (stream_id, version, type, data, metadata)"
            " VALUES (%s, 1, 'BenchWritten', %s, %s) RETURNING position",
            ("bench", _DATA, _METADATA),
        )
        row = await cursor.fetchone()
    assert row is not None
    return Written(position=int(row[0]))


BENCH_ROUTES = [hello, write]
