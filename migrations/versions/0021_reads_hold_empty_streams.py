"""A stream a decision read as empty is held as firmly as one it read with events.

A decision appends, beside the streams it writes, the streams it only read, at the
versions it read them (`booking_core.domain.decision`): the append takes a share lock on
each, so a writer of one of them waits for it to commit and then finds the version
moved. A stream read as empty had no `streams` row to lock, so nothing held it: two
decisions, each writing one stream and reading the other as empty (two bookings of one
table on neighbouring service days, both empty), could both commit, each blind to the
other's booking.

Now the check of a stream expected empty first makes its `streams` row at version 0, and
locks that. A writer expecting the stream empty takes a version-0 row as empty
(`ON CONFLICT ... DO UPDATE ... WHERE version = 0`), after waiting for the reader's
transaction to end; whichever of two such decisions comes second finds the other's event
and is refused (TB409), to decide again. Every stream is still visited in the order of
its id, readers and writers alike, so the locks cannot deadlock. A version-0 row means
"never written": nothing else reads `streams` but the version, which is the same.
The function is the one of 0020 otherwise.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06
"""

from alembic import op

from migrations.revisions import revision_module

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

_READ_BEFORE = """
        IF v_counts[i] = 0 THEN
            SELECT s.version INTO v_actual FROM streams s"""
_READ_AFTER = """
        IF v_counts[i] = 0 THEN
            IF p_expected[i] = 0 THEN
                -- Read as empty: a row to lock, which a writer of the stream waits for.
                INSERT INTO streams (stream_id, version) VALUES (p_streams[i], 0)
                ON CONFLICT (stream_id) DO NOTHING;
            END IF;
            SELECT s.version INTO v_actual FROM streams s"""
_FIRST_WRITE_BEFORE = """
            INSERT INTO streams (stream_id, version) VALUES (p_streams[i], v_counts[i])
            ON CONFLICT (stream_id) DO NOTHING;"""
_FIRST_WRITE_AFTER = """
            INSERT INTO streams AS s (stream_id, version) VALUES (p_streams[i], v_counts[i])
            ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version
            WHERE s.version = 0;"""


def _function_of_0020() -> str:
    return str(revision_module("0020_append_checks_last_events.py").checking_function())


def holding_function() -> str:
    text = _function_of_0020()
    for before, after in ((_READ_BEFORE, _READ_AFTER), (_FIRST_WRITE_BEFORE, _FIRST_WRITE_AFTER)):
        if text.count(before) != 1:
            raise RuntimeError(f"the append function of 0020 no longer reads {before.strip()!r}")
        text = text.replace(before, after)
    return text


def upgrade() -> None:
    op.execute(holding_function())


def downgrade() -> None:
    op.execute(_function_of_0020())
    # Rows a read made and no write followed: before this revision, never written meant
    # no row, and the expected-empty write of 0020 takes any row as written.
    op.execute("DELETE FROM streams WHERE version = 0")
