"""The upgrade to 0014 gives the rows projected before it the person their events name, so
an erasure finds them: a booking at another venue's stream, and its outbox row."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from alembic import command

from booking_core.codec import codec
from booking_core.domain.events import BookingPlaced
from booking_core.domain.streams import streams_of
from booking_core.store import NO_STREAM, StreamAppend
from booking_core.store.postgres import PostgresEventStore
from tablebook.database import alembic_config, open_pool
from tests.integration.test_sealed_events import NOW, placed
from tests.support.migrated import database_at

VENUE = "ven_rows"


@pytest.fixture
def at_0016(database_url: str) -> Iterator[str]:
    with database_at(database_url, "0016", "tb_erasure") as url:
        yield url


async def test_rows_projected_before_the_upgrade_name_their_person(at_0016: str) -> None:
    pool = await open_pool(at_0016, min_size=1, max_size=2)
    try:
        store = PostgresEventStore(pool, at_0016)
        event = placed("b-old", "Ada", "ada@example.org")
        stream = streams_of(VENUE).booking("b-old")
        await store.append([StreamAppend(stream, NO_STREAM, [codec.encode(event)])])
        (recorded,) = await store.read_stream(stream)
    finally:
        await pool.close()
    decoded = codec.decode(recorded)
    assert isinstance(decoded, BookingPlaced)
    person = decoded.person
    assert person is not None
    with psycopg.connect(at_0016, autocommit=True) as connection:
        connection.execute(
            "INSERT INTO rm_bookings (id, venue_id, table_ids, service_date, date, time,"
            " end_time, starts_at, ends_at, party_size, duration_minutes, guest_name,"
            " status, source, version, created_at, updated_at)"
            " VALUES ('b-old', %s, '{t1}', %s, %s, '19:00', '20:30', %s, %s, 4, 90, 'Ada',"
            " 'confirmed', 'phone', 1, %s, %s)",
            (VENUE, event.date, event.date, event.starts_at, event.ends_at, NOW, NOW),
        )
        connection.execute(
            "INSERT INTO notifications (venue_id, id, booking_id, kind, channel,"
            " booking_version, recipient, details, status, due_at, next_attempt_at,"
            " created_at, updated_at) VALUES (%s, 'b-old:placed:1:email', 'b-old', 'placed',"
            " 'email', 1, 'ada@example.org', '{}', 'pending', %s, %s, %s, %s)",
            (VENUE, NOW, NOW, NOW, NOW),
        )

    command.upgrade(alembic_config(at_0016), "0014")

    with psycopg.connect(at_0016) as connection:
        booking = connection.execute("SELECT person FROM rm_bookings").fetchall()
        outbox = connection.execute("SELECT person FROM notifications").fetchall()
    assert booking == [(person,)]
    assert outbox == [(person,)]
