"""The upgrade to 0013 seals the events written before: afterwards no personal field is in
the clear in `events`, every reader gets the events back as they were (with their
person), and persons follow the same rules as for new events."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import psycopg
import pytest
from alembic import command

from booking_core.codec import codec
from booking_core.domain.events import (
    BookingPlaced,
    Event,
    WaitlistEntryAdded,
    WaitlistGuestNotified,
)
from booking_core.domain.streams import streams_of
from booking_core.store import NO_STREAM, StreamAppend
from booking_core.store.postgres import PostgresEventStore
from tablebook.database import alembic_config, open_pool
from tests.integration.test_sealed_events import NOW, changed, placed
from tests.support.migrated import database_at

SECRETS = ("Ada", "ada@example.org", "ADA@", "7946", "Grace", "grace@example.org", "nut allergy")

HERE = streams_of("ven_here")
THERE = streams_of("ven_there")


@pytest.fixture
def at_0012(database_url: str) -> Iterator[str]:
    with database_at(database_url, "0012", "tb_sealing") as url:
        yield url


def _append_the_old_way(url: str, stream_id: str, expected: int, events: list[Event]) -> None:
    encoded = [codec.encode(event) for event in events]
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            "SELECT tb_append(%s::text[], %s::bigint[], %s::int[], %s::text[], %s::smallint[],"
            " %s::jsonb[], %s::jsonb[])",
            (
                [stream_id],
                [expected],
                [1] * len(encoded),
                [e.type for e in encoded],
                [e.schema_version for e in encoded],
                [e.data.decode() for e in encoded],
                [e.metadata.decode() for e in encoded],
            ),
        )


def _waitlist(
    entry_id: str, name: str, phone: str
) -> tuple[WaitlistEntryAdded, WaitlistGuestNotified]:
    day = date(2026, 12, 24)
    added = WaitlistEntryAdded(
        entry_id=entry_id,
        service_date=day,
        party_size=2,
        guest_name=name,
        guest_phone=phone,
        notes="nut allergy",
        token_hash="0" * 64,
        added_at=NOW,
        added_by="u-staff",
    )
    notified = WaitlistGuestNotified(
        entry_id=entry_id,
        service_date=day,
        party_size=2,
        guest_name=name,
        guest_phone=phone,
        notified_at=NOW,
        notified_by="u-staff",
    )
    return added, notified


async def test_the_upgrade_leaves_no_personal_field_in_the_clear(at_0012: str) -> None:
    with psycopg.connect(at_0012, autocommit=True) as connection:
        connection.execute(
            "INSERT INTO users (id, email, password_hash, full_name) VALUES"
            " ('u-ada', 'ada@example.org', 'x', 'Ada Lovelace')"
        )
    by_account = placed("b1", "Ada Lovelace", "ada@example.org", "+44 20 7946 0000")
    by_account = BookingPlaced(**{**_fields(by_account), "user_id": "u-ada"})
    by_staff = placed("b2", "Ada L.", "ADA@example.org ")
    again = placed("b3", "Ada", "ada@example.org")
    grace = placed("b4", "Grace Hopper", "grace@example.org")
    added, notified = _waitlist("wl-20261224-1", "Ada", "+44 20 7946 0000")
    history: list[tuple[str, int, list[Event]]] = [
        (HERE.booking("b1"), NO_STREAM, [by_account, changed(by_account, "", "Ada King")]),
        (HERE.booking("b2"), NO_STREAM, [by_staff]),
        (HERE.booking("b3"), NO_STREAM, [again]),
        (HERE.waitlist(date(2026, 12, 24)), NO_STREAM, [added, notified]),
        (THERE.booking("b1"), NO_STREAM, [grace]),
        (THERE.booking("b2"), NO_STREAM, [again]),
    ]
    for stream_id, expected, events in history:
        events = [_without_person(e) for e in events]
        _append_the_old_way(at_0012, stream_id, expected, events)

    command.upgrade(alembic_config(at_0012), "head")

    with psycopg.connect(at_0012) as connection:
        text = "\n".join(r[0] for r in connection.execute("SELECT data::text FROM events"))
        keys = connection.execute("SELECT count(*) FROM person_keys").fetchone()
    for secret in SECRETS:
        assert secret not in text
    pool = await open_pool(at_0012, min_size=1, max_size=2)
    try:
        store = PostgresEventStore(pool, at_0012)
        read = {
            stream_id: [codec.decode(r) for r in await store.read_stream(stream_id)]
            for stream_id, _, _ in history
        }
        for stream_id, _, events in history:
            assert [_without_person(e) for e in read[stream_id]] == [
                _without_person(e) for e in events
            ]
        person = {s: [getattr(e, "person", None) for e in events] for s, events in read.items()}
        mine, mine_changed = person[HERE.booking("b1")]
        assert mine == mine_changed  # later events take their booking's person
        assert person[HERE.booking("b2")] == person[HERE.booking("b3")] != [mine]
        entry, entry_notified = person[HERE.waitlist(date(2026, 12, 24))]
        assert entry == entry_notified != mine
        assert person[THERE.booking("b2")] != person[HERE.booking("b3")]  # per venue
        assert keys == (5,)  # account, email here, phone here, grace, email there
        # The index holds: a new booking with the email joins the migrated person.
        new = await store.append(
            [
                StreamAppend(
                    HERE.booking("b9"),
                    NO_STREAM,
                    [codec.encode(placed("b9", "A", "ada@example.org"))],
                )
            ]
        )
        assert [new.persons[0]] == person[HERE.booking("b2")]
    finally:
        await pool.close()

    command.downgrade(alembic_config(at_0012), "0012")
    with psycopg.connect(at_0012) as connection:
        rows = connection.execute(
            "SELECT data::text FROM events WHERE stream_id = %s", (HERE.booking("b2"),)
        ).fetchall()
    assert "ADA@example.org" in rows[0][0]
    assert "_sealed" not in rows[0][0]


def _without_person(event: Event) -> Event:
    fields = _fields(event)
    if "person" in fields:
        fields["person"] = None
    return type(event)(**fields)


def _fields(event: Any) -> dict[str, Any]:
    return {name: getattr(event, name) for name in event.__struct_fields__}
