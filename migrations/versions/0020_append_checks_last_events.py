"""The append function can check a stream's last event as well as its version.

A writer that decided on a state it kept rather than read again (a booking's first
attempt, `booking_core.handlers._session`) names, for each such stream, the position and
transaction of the last event that state was folded from. The append refuses (TB409, as
for a wrong version) when the event at that version is another one: a log restored from
a backup, or emptied and written again, can repeat a stream's version with other events,
and only the event itself tells the two histories apart. The function is the one of 0019
otherwise, with two more parameters (NULL: versions only, as before).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
"""

from alembic import op

from migrations.revisions import revision_module

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_SIGNATURE_0019 = (
    "tb_append(text[], bigint[], integer[], text[], smallint[], jsonb[], jsonb[], text,"
    " text, jsonb, text[], text[], bytea[], bytea[], boolean[])"
)
_SIGNATURE = _SIGNATURE_0019.replace("boolean[])", "boolean[], bigint[], bigint[])")

_PARAMETERS_BEFORE = """
    p_person_fresh boolean[] DEFAULT NULL
) RETURNS jsonb"""
_PARAMETERS_AFTER = """
    p_person_fresh boolean[] DEFAULT NULL,
    p_last_positions bigint[] DEFAULT NULL,
    p_last_txs bigint[] DEFAULT NULL
) RETURNS jsonb"""
_NUMBERING = """
    FOR i IN 1 .. v_event_count LOOP
        v_next[p_event_streams[i]] := v_next[p_event_streams[i]] + 1;"""
_CHECK_LAST = """
    -- Each stream named with a last event: the event at its expected version must be
    -- that one (same position, same transaction), not merely some event.
    IF p_last_positions IS NOT NULL THEN
        FOR i IN 1 .. v_stream_count LOOP
            IF p_last_positions[i] IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM events e
                WHERE e.stream_id = p_streams[i] AND e.version = p_expected[i]
                  AND e.position = p_last_positions[i]
                  AND e.tx = p_last_txs[i]::text::xid8
            ) THEN
                RAISE EXCEPTION USING ERRCODE = 'TB409', MESSAGE = 'another last event',
                    DETAIL = jsonb_build_object('stream_id', p_streams[i],
                        'expected', p_expected[i], 'actual', p_expected[i])::text;
            END IF;
        END LOOP;
    END IF;
"""


def _function_of_0019() -> str:
    return str(revision_module("0019_append_marks.py").marking_function())


def checking_function() -> str:
    text = _function_of_0019()
    for before, after in (
        (_PARAMETERS_BEFORE, _PARAMETERS_AFTER),
        (_NUMBERING, _CHECK_LAST + _NUMBERING),
    ):
        if text.count(before) != 1:
            raise RuntimeError(f"the append function of 0019 no longer reads {before.strip()!r}")
        text = text.replace(before, after)
    return text


def upgrade() -> None:
    op.execute(f"DROP FUNCTION {_SIGNATURE_0019}")
    op.execute(checking_function())


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {_SIGNATURE}")
    op.execute(_function_of_0019())
