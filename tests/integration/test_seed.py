"""The demo restaurants, the first admin and `tablebook dev`, against real servers."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import bcrypt
import pytest
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

from booking_core.codec import codec
from booking_core.domain.booking import Confirmed
from booking_core.domain.commands import Actor
from booking_core.domain.folding import BOOKING
from booking_core.domain.streams import DEFAULT_STREAMS, DEFAULT_VENUE_ID, streams_of
from booking_core.handlers import load_venue
from booking_core.store.postgres import PostgresEventStore
from read_models.consistency import redis_checkpoint_key
from tablebook.database import create_database, drop_database, with_database
from tablebook.demo_plan import DEMO_BOOKINGS
from tablebook.seed import (
    DEMO_ADMIN_EMAIL,
    DEMO_GUEST_ID,
    DEMO_VENUES,
    SeedSummary,
    plan_for,
    seed_with_progress,
)
from tests.integration.test_cli import TABLEBOOK, free_port, get

NOW = datetime.now(UTC)
ADMIN = Actor(user_id="usr_maitre_d", role="admin")
GUEST = Actor(user_id=DEMO_GUEST_ID)


async def count_events(pool: AsyncConnectionPool[Any]) -> int:
    async with pool.connection() as connection:
        cursor = await connection.execute("SELECT count(*) FROM events")
        row = await cursor.fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture(scope="module")
async def seeded_venues(
    pool: AsyncConnectionPool[Any], database_url: str
) -> tuple[PostgresEventStore, list[SeedSummary]]:
    """The demo seeded once into an empty event store, for the tests that only read it."""
    async with pool.connection() as connection:
        await connection.execute("TRUNCATE events, streams, idempotency_keys RESTART IDENTITY")
    store = PostgresEventStore(pool, database_url)
    return store, await seed_with_progress(store, time_zone="Europe/London", admin=ADMIN, now=NOW)


@pytest.fixture(scope="module")
def seeded(
    seeded_venues: tuple[PostgresEventStore, list[SeedSummary]],
) -> tuple[PostgresEventStore, SeedSummary]:
    """The London venue of the demo: the default venue."""
    store, summaries = seeded_venues
    return store, summaries[0]


async def test_the_demo_restaurant_has_twelve_tables_in_two_areas_on_an_active_layout(
    seeded: tuple[PostgresEventStore, SeedSummary],
) -> None:
    store, summary = seeded
    venue, _ = await load_venue(store)
    assert not summary.venue_was_configured
    assert len(venue.tables) == summary.tables == 12
    assert venue.active_layout_id is not None
    layout = venue.layouts[venue.active_layout_id]
    assert {area.name for area in layout.areas} == {"Main room", "Terrace"}
    assert layout.canvas is not None
    assert {placed.table_id for placed in layout.tables} == set(venue.tables)
    shifts = [len(day) for day in venue.hours.by_weekday()]
    assert shifts == [0, 2, 2, 2, 2, 2, 2]  # closed on Mondays, lunch and dinner otherwise
    assert venue.settings.time_zone == "Europe/London"
    joined = {
        (c.name, tuple(venue.tables[t] for t in c.table_ids), c.min_capacity, c.capacity)
        for c in venue.combinations.values()
    }
    assert joined == {("M4 + M5", ("M4", "M5"), 5, 8), ("T3 + T4", ("T3", "T4"), 7, 10)}


async def test_two_demo_venues_in_two_time_zones_each_with_its_own_floor_and_bookings(
    seeded_venues: tuple[PostgresEventStore, list[SeedSummary]],
) -> None:
    store, summaries = seeded_venues
    london, new_york = DEMO_VENUES
    assert london.venue_id == DEFAULT_VENUE_ID != new_york.venue_id
    zones = {}
    for at, summary in zip(DEMO_VENUES, summaries, strict=True):
        venue, _ = await load_venue(store, at.venue_id)
        assert venue.entry is not None
        assert (venue.entry.name, venue.entry.slug) == (at.name, at.slug)
        assert len(venue.tables) == summary.tables == 12
        assert summary.made > 150
        zones[at.slug] = venue.settings.time_zone
        booked = 0
        for n in range(1, DEMO_BOOKINGS + 1):
            records = await store.read_stream(
                streams_of(at.venue_id).booking(at.ids(f"booking-{n}"))
            )
            booked += bool(records)
        assert booked == summary.made
    assert zones == {"london": "Europe/London", "new-york": "America/New_York"}


async def test_about_two_hundred_bookings_and_none_overlap_on_a_table(
    seeded: tuple[PostgresEventStore, SeedSummary],
) -> None:
    store, summary = seeded
    assert 180 <= summary.made <= 220
    assert summary.made + sum(summary.skipped.values()) == DEMO_BOOKINGS
    assert set(summary.skipped) <= {"slot taken"}
    assert summary.cancelled > 0
    venue, _ = await load_venue(store)
    buffer = timedelta(minutes=venue.settings.buffer_minutes)
    held: dict[str, list[tuple[datetime, datetime]]] = {}
    users: set[str] = set()
    for booking in plan_for(NOW, "Europe/London").bookings:
        records = await store.read_stream(DEFAULT_STREAMS.booking(booking.booking_id))
        state = BOOKING.fold(codec.decode(record) for record in records)
        if isinstance(state, Confirmed):
            users.add(state.details.user_id)
            for table_id in state.details.table_ids:
                slot = state.details.slot
                held.setdefault(table_id, []).append((slot.starts_at, slot.ends_at))
    assert users == {ADMIN.user_id, GUEST.user_id}
    for spans in held.values():
        for (_, first_ends), (second_starts, _) in itertools.pairwise(sorted(spans)):
            assert first_ends + buffer <= second_starts


async def test_seeding_again_writes_nothing_and_says_the_venue_was_kept(
    seeded: tuple[PostgresEventStore, SeedSummary],
    seeded_venues: tuple[PostgresEventStore, list[SeedSummary]],
    pool: AsyncConnectionPool[Any],
    database_url: str,
    tmp_path: Path,
) -> None:
    _, first = seeded
    _, summaries = seeded_venues
    before = await count_events(pool)
    again = await asyncio.to_thread(
        subprocess.run,
        [*TABLEBOOK, "seed-demo"],
        env={**os.environ, "DATABASE_URL": database_url, "TABLEBOOK_TIME_ZONE": "Europe/London"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == [
        f"{summary.venue}: venue already configured, left as it is;"
        f" bookings: 0 made, {summary.made} already there,"
        f" {DEMO_BOOKINGS - summary.made} skipped (slot taken {DEMO_BOOKINGS - summary.made}),"
        " 0 cancelled"
        for summary in summaries
    ]
    assert summaries[0] is first
    assert await count_events(pool) == before


def create_admin(database_url: str, cwd: Path, *argv: str, password: str = "") -> Any:
    """`tablebook users create-admin`, the password from the environment if given here."""
    return subprocess.run(
        [*TABLEBOOK, "users", "create-admin", "--bcrypt-rounds", "4", *argv],
        env={**os.environ, "DATABASE_URL": database_url, "TABLEBOOK_ADMIN_PASSWORD": password},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_create_admin_creates_the_account_then_changes_its_password(
    pool: AsyncConnectionPool[Any], database_url: str, tmp_path: Path
) -> None:
    email = f"ada.{uuid.uuid4().hex[:8]}@example.com"
    created = await asyncio.to_thread(
        create_admin, database_url, tmp_path, "--email", email, "--password", "first-pass"
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith(f"admin {email} ready")
    first_version = await _token_version(pool, email)
    updated = await asyncio.to_thread(
        create_admin, database_url, tmp_path, "--email", email.upper(), password="second-pass"
    )
    assert updated.returncode == 0, updated.stderr
    async with pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT role, password_hash FROM users WHERE lower(email) = lower(%s)", (email,)
        )
        rows = await cursor.fetchall()
    assert len(rows) == 1
    role, password_hash = rows[0]
    assert role == "admin"
    assert bcrypt.checkpw(b"second-pass", password_hash.encode())
    # Every token signed in with the old password carries the old version: all refused.
    assert await _token_version(pool, email) == first_version + 1


async def _token_version(pool: AsyncConnectionPool[Any], email: str) -> int:
    async with pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT token_version FROM users WHERE lower(email) = lower(%s)", (email,)
        )
        row = await cursor.fetchone()
    assert row is not None
    return int(row[0])


async def test_create_admin_reads_a_secret_file_and_can_leave_an_existing_account_alone(
    pool: AsyncConnectionPool[Any], database_url: str, tmp_path: Path
) -> None:
    email = f"grace.{uuid.uuid4().hex[:8]}@example.com"
    secret = tmp_path / "admin_password"
    secret.write_text("correct horse battery staple\n")
    created = await asyncio.to_thread(
        create_admin, database_url, tmp_path, "--email", email, "--password-file", str(secret)
    )
    assert created.returncode == 0, created.stderr
    async with pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT password_hash FROM users WHERE lower(email) = lower(%s)", (email,)
        )
        row = await cursor.fetchone()
    assert row is not None
    assert bcrypt.checkpw(b"correct horse battery staple", row[0].encode())

    secret.write_text("a password changed since\n")
    again = await asyncio.to_thread(
        create_admin,
        database_url,
        tmp_path,
        *("--email", email, "--password-file", str(secret), "--keep-existing"),
    )
    assert again.returncode == 0, again.stderr
    assert again.stdout == f"{email} has an account already: left as it is\n"
    async with pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT password_hash FROM users WHERE lower(email) = lower(%s)", (email,)
        )
        kept = await cursor.fetchone()
    assert kept == row


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--email", "not-an-email", "--password", "long enough"], "is not an email address"),
        (["--email", "ada@example.com", "--password", "short"], "at least 8 characters"),
        (["--email", "ada@example.com"], "TABLEBOOK_ADMIN_PASSWORD"),
        (["--email", "ada@example.com", "--password", "mot de passe très sûr " * 4], "72 bytes"),
        (
            ["--email", "ada@example.com", "--password-file", "no-such-secret"],
            "cannot read the password file 'no-such-secret': No such file or directory",
        ),
    ],
    ids=[
        "a malformed email",
        "a short password",
        "no password at all",
        "a password longer than bcrypt reads",
        "a password file that is not there",
    ],
)
def test_create_admin_refuses_with_one_clear_line(
    argv: list[str], message: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TABLEBOOK_ADMIN_PASSWORD"}
    result = subprocess.run(
        [*TABLEBOOK, "users", "create-admin", *argv],
        env={**env, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("tablebook: ")
    assert message in line


STOP_SECONDS = 10  # "a few seconds", with room for a busy two-core machine


def dev_log(tmp_path: Path) -> str:
    return (tmp_path / "dev.log").read_text()


@pytest.fixture
def dev_database(servers: tuple[str, str], run_id: str) -> Iterator[str]:
    """An empty database of its own: `tablebook dev` migrates and seeds it."""
    name = f"tablebook_test_{run_id}_dev"
    create_database(servers[0], name)
    try:
        yield with_database(servers[0], name)
    finally:
        drop_database(servers[0], name)


class Dev:
    """`tablebook dev` as a process, its stdout collected line by line."""

    def __init__(self, env: dict[str, str], cwd: Path, port: int) -> None:
        self.lines: list[str] = []
        self.port = port
        self.process = subprocess.Popen(
            [*TABLEBOOK, "dev", "--port", str(port), "--bcrypt-rounds", "4"],
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=(cwd / "dev.log").open("a"),
            text=True,
        )
        assert self.process.stdout is not None
        threading.Thread(target=self._collect, args=(self.process.stdout,), daemon=True).start()

    def _collect(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    def wait_for_banner(self, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            if any("Ctrl-C stops everything" in line for line in self.lines):
                return "\n".join(self.lines)
            time.sleep(0.05)
        raise AssertionError(f"no banner; stdout: {self.lines}")

    def stop(self, signum: int) -> tuple[int, float]:
        started = time.monotonic()
        self.process.send_signal(signum)
        try:
            code = self.process.wait(timeout=15)
        finally:
            self.process.kill()
        return code, time.monotonic() - started


async def wait_for_log(tmp_path: Path, text: str) -> None:
    deadline = time.monotonic() + 30
    while text not in dev_log(tmp_path):
        assert time.monotonic() < deadline, f"no {text!r} in the log"
        await asyncio.sleep(0.1)


async def wait_for_projections(pool: AsyncConnectionPool[Any], redis: Redis, prefix: str) -> int:
    """The bookings projection's row count, once it and the availability model have rows."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        async with pool.connection() as connection:
            cursor = await connection.execute("SELECT count(*) FROM rm_bookings")
            row = await cursor.fetchone()
        checkpoint = await redis.get(redis_checkpoint_key(prefix, "availability"))
        if row and row[0] and checkpoint:
            return int(row[0])
        await asyncio.sleep(0.1)
    raise AssertionError("the projectors did not catch up")


async def test_dev_seeds_once_serves_projects_and_stops_cleanly(
    dev_database: str, redis_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    prefix = f"{redis_prefix}dev:"
    env = {k: v for k, v in os.environ.items() if k != "TABLEBOOK_ADMIN_PASSWORD"}
    env |= {
        "DATABASE_URL": dev_database,
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": prefix,
        "TABLEBOOK_DATA_DIR": str(tmp_path / "data"),
    }
    redis = Redis.from_url(redis_url)
    pool = AsyncConnectionPool(dev_database, min_size=1, max_size=1, open=False)
    try:
        port = free_port()
        dev = Dev(env, tmp_path, port)
        shown = await asyncio.to_thread(dev.wait_for_banner)
        password = (tmp_path / "data" / "admin-password").read_text().strip()
        assert f"http://127.0.0.1:{port}/docs" in shown
        assert f"http://127.0.0.1:{port}/console" in shown
        for at in DEMO_VENUES:
            assert f"http://127.0.0.1:{port}/book/{at.slug}" in shown
        assert DEMO_ADMIN_EMAIL in shown
        assert f"password: {password}" in shown
        assert get(f"http://127.0.0.1:{port}/health/live")[0] == 200
        await pool.open()
        assert await wait_for_projections(pool, redis, prefix) >= 180
        # Without SMTP or Twilio every message is skipped: one line says so, not one each.
        await wait_for_log(tmp_path, "logger=tablebook.notifications msg=skipped")
        assert "notification=" not in dev_log(tmp_path)
        code, seconds = await asyncio.to_thread(dev.stop, signal.SIGINT)
        assert (code, seconds < STOP_SECONDS) == (0, True), dev_log(tmp_path)

        events = await count_events(pool)
        again = Dev(env, tmp_path, free_port())
        assert f"password: {password}" in await asyncio.to_thread(again.wait_for_banner)
        code, seconds = await asyncio.to_thread(again.stop, signal.SIGTERM)
        assert (code, seconds < STOP_SECONDS) == (0, True), dev_log(tmp_path)
        assert "already seeded" in dev_log(tmp_path)
        assert await count_events(pool) == events
    finally:
        await pool.close()
        async for key in redis.scan_iter(match=prefix + "*"):
            await redis.delete(key)
        await redis.aclose()
