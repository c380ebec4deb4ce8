"""`tablebook events export`: the event log as JSON lines, CSV or Parquet, for analysts.

JSON lines and CSV are made by PostgreSQL in one `COPY` over one snapshot and streamed
in chunks (`PostgresEventStore.export`); Parquet is written a row group per page of the
store's gap-free `read_all` (the next page read while one is written). Either way memory
stays flat however long the log is. Rows come in log order (`tx`, then `position`: the
order projections apply them), each with `position`, `tx`, `stream_id`, `version`,
`type`, `schema_version`, `recorded_at` (UTC), `metadata` and `data` (the stored JSON, at
its `schema_version`).

Filters: one venue (its id or slug: exactly the events of that venue's streams, chosen in
SQL), `recorded_at` from an instant (inclusive) to an instant (exclusive), a stream id
prefix, event types. Parquet needs the `analytics` extra (pyarrow), imported only then.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import IO, Any

from psycopg_pool import AsyncConnectionPool

from booking_core.codec import codec
from booking_core.store import ORIGIN, ConsistencyToken, EventStore, RecordedEvent
from booking_core.store.postgres import PostgresEventStore
from read_models.as_of import parse_instant
from tablebook.database import open_pool
from tablebook.progress import progress_bar, stderr_is_terminal
from tablebook.venue_lookup import resolve_venue

__all__ = ["FORMATS", "ExportRequest", "export_events", "run_export", "write_export"]

FORMATS = ("jsonl", "csv", "parquet")
COLUMNS = (
    "position",
    "tx",
    "stream_id",
    "version",
    "type",
    "schema_version",
    "recorded_at",
    "metadata",
    "data",
)
PAGE = 20_000
_INSTALL_PYARROW = (
    "Parquet export needs pyarrow, which comes with the analytics extra:"
    " pip install 'tablebook[analytics]'"
)


@dataclass(frozen=True)
class ExportRequest:
    format: str
    recorded_from: datetime | None = None
    recorded_before: datetime | None = None
    stream_prefix: str | None = None
    venue: str | None = None
    """A venue id once resolved (`run_export`); as given (id or slug) before."""
    types: frozenset[str] | None = None
    output: Path | None = None

    @classmethod
    def parse(
        cls,
        *,
        format: str,
        start: str | None = None,
        end: str | None = None,
        stream_prefix: str | None = None,
        venue: str | None = None,
        types: Sequence[str] = (),
        output: str | None = None,
    ) -> ExportRequest:
        """Check every option before anything is opened; ValueError names the bad one."""
        if format not in FORMATS:
            raise ValueError(f"unknown format {format!r}: use one of {', '.join(FORMATS)}")
        if format == "parquet":
            _pyarrow()
        unknown = sorted(set(types) - codec.type_names)
        if unknown:
            raise ValueError(
                f"unknown event type(s) {', '.join(unknown)}; known types:"
                f" {', '.join(sorted(codec.type_names))}"
            )
        recorded_from = parse_instant(start) if start is not None else None
        recorded_before = parse_instant(end) if end is not None else None
        if recorded_from and recorded_before and recorded_before <= recorded_from:
            raise ValueError("--to must be later than --from")
        return cls(
            format=format,
            recorded_from=recorded_from,
            recorded_before=recorded_before,
            stream_prefix=stream_prefix or None,
            venue=venue or None,
            types=frozenset(types) or None,
            output=Path(output) if output else None,
        )


def _pyarrow() -> tuple[ModuleType, ModuleType]:
    try:
        import pyarrow  # type: ignore[import-untyped]
        import pyarrow.parquet  # type: ignore[import-untyped]
    except ImportError:
        raise ValueError(_INSTALL_PYARROW) from None
    return pyarrow, pyarrow.parquet


async def _pages(
    store: EventStore, request: ExportRequest, page: int
) -> AsyncIterator[list[RecordedEvent]]:
    """The matching events, page by page; the next page is read while one is written."""

    def read(after: ConsistencyToken) -> asyncio.Future[list[RecordedEvent]]:
        return asyncio.ensure_future(
            store.read_all(
                after,
                page,
                stream_prefix=request.stream_prefix,
                venue=request.venue,
                types=request.types,
                recorded_from=request.recorded_from,
                recorded_before=request.recorded_before,
            )
        )

    reading = read(ORIGIN)
    while records := await reading:
        reading = read(records[-1].token)
        yield records


class _Parquet:
    def __init__(self, out: IO[bytes]) -> None:
        pa, pq = _pyarrow()
        self._pa = pa
        self._schema = pa.schema(
            [
                ("position", pa.int64()),
                ("tx", pa.int64()),
                ("stream_id", pa.string()),
                ("version", pa.int64()),
                ("type", pa.string()),
                ("schema_version", pa.int16()),
                ("recorded_at", pa.timestamp("us", tz="UTC")),
                ("metadata", pa.string()),
                ("data", pa.string()),
            ]
        )
        self._writer = pq.ParquetWriter(out, self._schema, compression="zstd")

    def write(self, records: Sequence[RecordedEvent]) -> None:
        columns = [
            [r.position for r in records],
            [r.tx for r in records],
            [r.stream_id for r in records],
            [r.version for r in records],
            [r.type for r in records],
            [r.schema_version for r in records],
            [r.recorded_at for r in records],
            [r.metadata.decode() for r in records],
            [r.data.decode() for r in records],
        ]
        self._writer.write_table(self._pa.table(columns, schema=self._schema))

    def close(self) -> None:
        self._writer.close()


async def write_export(
    store: PostgresEventStore,
    request: ExportRequest,
    out: IO[bytes],
    *,
    page: int = PAGE,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the matching events to `out` in the request's format; return how many."""
    if request.format == "parquet":
        return await _write_parquet(store, request, out, page, progress)
    chunks = store.export(
        "csv" if request.format == "csv" else "jsonl",
        stream_prefix=request.stream_prefix,
        venue=request.venue,
        types=request.types,
        recorded_from=request.recorded_from,
        recorded_before=request.recorded_before,
    )
    lines = -1 if request.format == "csv" else 0  # the header is no event
    async for chunk in chunks:
        out.write(chunk)
        # JSON and CSV of jsonb hold no raw line breaks: a line is an event.
        counted = chunk.count(b"\n")
        lines += counted
        if progress is not None:
            progress(counted)
    out.flush()
    return max(lines, 0)


async def _write_parquet(
    store: EventStore,
    request: ExportRequest,
    out: IO[bytes],
    page: int,
    progress: Callable[[int], None] | None,
) -> int:
    writer = _Parquet(out)
    written = 0
    async for records in _pages(store, request, page):
        writer.write(records)
        written += len(records)
        if progress is not None:
            progress(len(records))
    writer.close()
    return written


async def export_events(
    store: PostgresEventStore,
    request: ExportRequest,
    stdout: IO[bytes],
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Export to `request.output` (written beside it first, then moved into place, so a
    failed export leaves no half file) or, without one, to `stdout`."""
    if request.output is None:
        return await write_export(store, request, stdout, progress=progress)
    partial = request.output.with_name(request.output.name + ".partial")
    try:
        with partial.open("wb") as out:
            written = await write_export(store, request, out, progress=progress)
        os.replace(partial, request.output)
    finally:
        partial.unlink(missing_ok=True)
    return written


async def _count_all(pool: AsyncConnectionPool[Any]) -> int:
    async with pool.connection() as connection:
        cursor = await connection.execute("SELECT count(*) FROM events")
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def run_export(database_url: str, request: ExportRequest) -> int:
    """The command: export from the database, with a progress bar on a terminal (its
    total known only for an unfiltered export). A venue given by slug is resolved first;
    an unknown one is a ValueError."""
    pool = await open_pool(database_url, min_size=1, max_size=3)
    try:
        if request.venue is not None:
            request = replace(request, venue=await resolve_venue(pool, request.venue))
        store = PostgresEventStore(pool, database_url)
        unfiltered = request == ExportRequest(format=request.format, output=request.output)
        total = await _count_all(pool) if unfiltered and stderr_is_terminal() else None
        with progress_bar("exporting events", total) as advance:
            return await export_events(store, request, sys.stdout.buffer, progress=advance)
    finally:
        await pool.close()
