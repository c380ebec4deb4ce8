"""Routes that exist only for `make bench`: a hello-world baseline on the same server.

Mounted when `TABLEBOOK_BENCH_ROUTES=1` (off by default, refused in production), so the
benchmarks can set what a route of ours costs beside what the framework alone costs.
"""

from __future__ import annotations

import msgspec
from litestar import get

__all__ = ["BENCH_ROUTES", "hello"]


class Hello(msgspec.Struct, frozen=True):
    hello: str


@get("/bench/hello", summary="Hello world, for benchmarks only", include_in_schema=False)
async def hello() -> Hello:
    return Hello(hello="world")


BENCH_ROUTES = [hello]
