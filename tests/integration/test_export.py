"""`tablebook events export`: what is exported reads back as the very events stored, in
every format; filters leave out exactly what they should; bad options fail at once with
one clear line."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest
from psycopg_pool import AsyncConnectionPool

from booking_core.store import RecordedEvent
from booking_core.store.postgres import PostgresEventStore
from tablebook.cli import main
from tablebook.export import ExportRequest, write_export
from tests.integration.test_replay import readable
from tests.support.scope import STREAM_PREFIX
from tests.support.story import Story

Row = tuple[int, int, str, int, str, int, datetime, Any, Any]


@pytest.fixture
async def events(
    clean_store: PostgresEventStore, pool: AsyncConnectionPool[Any]
) -> list[RecordedEvent]:
    story = Story(seed=3)
    for writes in story.opening():
        await clean_store.append(writes)
    for _ in range(120):
        step = story.random_step()
        if step:
            await clean_store.append(step)
    await readable(clean_store, pool)
    return await clean_store.read_all(limit=100_000)


def stored(records: list[RecordedEvent]) -> list[Row]:
    return [
        (
            r.position,
            r.tx,
            r.stream_id,
            r.version,
            r.type,
            r.schema_version,
            r.recorded_at.astimezone(UTC),
            json.loads(r.metadata),
            json.loads(r.data),
        )
        for r in records
    ]


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def read_jsonl(raw: bytes) -> list[Row]:
    rows = [json.loads(line) for line in raw.splitlines()]
    return [
        (
            r["position"],
            r["tx"],
            r["stream_id"],
            r["version"],
            r["type"],
            r["schema_version"],
            instant(r["recorded_at"]),
            r["metadata"],
            r["data"],
        )
        for r in rows
    ]


def read_csv(raw: bytes) -> list[Row]:
    rows = list(csv.DictReader(io.StringIO(raw.decode(), newline="")))
    return [
        (
            int(r["position"]),
            int(r["tx"]),
            r["stream_id"],
            int(r["version"]),
            r["type"],
            int(r["schema_version"]),
            instant(r["recorded_at"]),
            json.loads(r["metadata"]),
            json.loads(r["data"]),
        )
        for r in rows
    ]


def read_parquet(raw: bytes) -> list[Row]:
    table = pq.read_table(io.BytesIO(raw))
    return [
        (
            r["position"],
            r["tx"],
            r["stream_id"],
            r["version"],
            r["type"],
            r["schema_version"],
            r["recorded_at"],
            json.loads(r["metadata"]),
            json.loads(r["data"]),
        )
        for r in table.to_pylist()
    ]


READERS = {"jsonl": read_jsonl, "csv": read_csv, "parquet": read_parquet}


async def export(store: PostgresEventStore, page: int = 50, **options: Any) -> bytes:
    out = io.BytesIO()
    await write_export(store, ExportRequest.parse(**options), out, page=page)
    return out.getvalue()


@pytest.mark.parametrize("format", ["jsonl", "csv", "parquet"])
async def test_an_export_reads_back_as_the_stored_events(
    format: str, clean_store: PostgresEventStore, events: list[RecordedEvent]
) -> None:
    raw = await export(clean_store, format=format)
    assert READERS[format](raw) == stored(events)


async def test_filters_keep_a_window_of_time_a_stream_prefix_and_types(
    clean_store: PostgresEventStore, events: list[RecordedEvent]
) -> None:
    cut = sorted({e.recorded_at for e in events})
    start, end = cut[len(cut) // 3], cut[2 * len(cut) // 3]
    window = await export(
        clean_store,
        format="jsonl",
        start=start.isoformat(),
        end=end.isoformat(),
        stream_prefix=f"{STREAM_PREFIX}booking-",
        types=["BookingPlaced", "BookingCancelled"],
    )
    expected = [
        e
        for e in events
        if start <= e.recorded_at < end
        and e.stream_id.startswith(f"{STREAM_PREFIX}booking-")
        and e.type in {"BookingPlaced", "BookingCancelled"}
    ]
    assert expected, "the story has bookings and cancellations in that window"
    assert read_jsonl(window) == stored(expected)


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str, redis_url: str) -> dict[str, str]:
    env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return {**os.environ, **env}


async def test_the_command_writes_a_file_and_leaves_nothing_half_written(
    clean_store: PostgresEventStore,
    events: list[RecordedEvent],
    cli_env: dict[str, str],
    tmp_path: Path,
) -> None:
    target = tmp_path / "events.parquet"
    argv = ["events", "export", "--format", "parquet", "--output", str(target)]
    assert await asyncio.to_thread(main, argv) == 0
    assert read_parquet(target.read_bytes()) == stored(events)
    assert await asyncio.to_thread(os.listdir, tmp_path) == ["events.parquet"]


async def test_the_command_streams_to_stdout_as_a_process(
    clean_store: PostgresEventStore, events: list[RecordedEvent], cli_env: dict[str, str]
) -> None:
    argv = ["events", "export", "--format", "csv", "--type", "TableAdded", "OpeningHoursChanged"]
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "tablebook.cli", *argv],
        env=cli_env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    wanted = [e for e in events if e.type in {"TableAdded", "OpeningHoursChanged"}]
    assert read_csv(done.stdout) == stored(wanted)


BAD = [
    (["--format", "xml"], "unknown format 'xml': use one of jsonl, csv, parquet"),
    (["--format", "jsonl", "--from", "last tuesday"], "not an ISO-8601 instant: 'last tuesday'"),
    (["--format", "jsonl", "--to", "2026-11-26T19:00:00"], "has no UTC offset"),
    (["--format", "csv", "--type", "TableBooked"], "unknown event type(s) TableBooked; known"),
    (
        ["--format", "jsonl", "--from", "2026-11-26T19:00Z", "--to", "2026-11-26T18:00Z"],
        "--to must be later than --from",
    ),
]


@pytest.mark.parametrize(
    ("options", "message"),
    BAD,
    ids=["unknown format", "a word for an instant", "local time", "unknown type", "empty window"],
)
def test_bad_options_exit_2_with_one_clear_line(
    options: list[str], message: str, cli_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["events", "export", *options]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.strip().splitlines()
    assert message in line


def test_a_bad_option_fails_the_process_the_same_way(cli_env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tablebook.cli", "events", "export", "--format", "xml"],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "tablebook: unknown format 'xml': use one of jsonl, csv, parquet"
    ]
