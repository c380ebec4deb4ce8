"""The upgrade to 0018 takes the manage tokens out of the outbox rows written before it,
and leaves the rest of their details as they were."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from alembic import command
from psycopg.types.json import Jsonb

from tablebook.database import alembic_config
from tests.integration.test_sealed_events import NOW
from tests.support.migrated import database_at

DETAILS = {"guest_name": "Ada Lovelace", "party_size": 4, "manage_token": "tok-window-4"}


@pytest.fixture
def at_0017(database_url: str) -> Iterator[str]:
    with database_at(database_url, "0017", "tb_outbox_tokens") as url:
        yield url


def test_the_upgrade_leaves_no_manage_token_in_the_outbox(at_0017: str) -> None:
    with psycopg.connect(at_0017, autocommit=True) as connection:
        for kind in ("placed", "reminder"):
            connection.execute(
                "INSERT INTO notifications (venue_id, id, booking_id, kind, channel,"
                " booking_version, recipient, details, status, due_at, next_attempt_at,"
                " created_at, updated_at) VALUES ('ven_rows', %s, 'b-old', %s, 'email', 1,"
                " 'ada@example.org', %s, 'sent', %s, %s, %s, %s)",
                (f"b-old:{kind}:1:email", kind, Jsonb(DETAILS), NOW, NOW, NOW, NOW),
            )

    command.upgrade(alembic_config(at_0017), "0018")

    with psycopg.connect(at_0017) as connection:
        rows = connection.execute("SELECT details FROM notifications ORDER BY id").fetchall()
    kept = {k: v for k, v in DETAILS.items() if k != "manage_token"}
    assert rows == [(kept,), (kept,)]
