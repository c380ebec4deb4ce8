"""The append function also says where each stream's last new event stands.

`tb_append` answered with each stream's version, the transaction and the last position
of the whole append. It now adds, for every stream it wrote, the position of that
stream's last new event (`marks`), and the time the events were recorded (`recorded_at`,
one per transaction). With them a writer can keep the state it decided on, with its own
events folded in, and know it again when it next reads the stream's tail
(`booking_core.handlers._state_cache`), so a process deciding on a stream it wrote last
reads nothing before it appends. The function is the one of 0013 otherwise.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""

from alembic import op

from migrations.revisions import revision_module

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_INSERT_BEFORE = """
        RETURNING position
    )
    SELECT max(position) INTO v_last FROM inserted;
"""
_INSERT_AFTER = """
        RETURNING position, stream_id, recorded_at
    )
    SELECT max(position),
           (SELECT jsonb_object_agg(m.stream_id, m.position)
            FROM (SELECT i.stream_id, max(i.position) AS position
                  FROM inserted i GROUP BY i.stream_id) AS m),
           max(recorded_at)
      INTO v_last, v_marks, v_recorded_at
      FROM inserted;
"""
_RESULT_BEFORE = """
        'position', v_last,
"""
_RESULT_AFTER = """
        'position', v_last,
        'marks', coalesce(v_marks, '{}'::jsonb),
        'recorded_at', v_recorded_at,
"""
_DECLARE_BEFORE = """
    v_last bigint;
"""
_DECLARE_AFTER = """
    v_last bigint;
    v_marks jsonb;
    v_recorded_at timestamptz;
"""


def _function_of_0013() -> str:
    text = str(revision_module("0013_person_keys.py").APPEND_FUNCTION)
    return text.replace("CREATE FUNCTION tb_append(", "CREATE OR REPLACE FUNCTION tb_append(", 1)


def _replaced(text: str, before: str, after: str) -> str:
    if text.count(before) != 1:
        raise RuntimeError(f"the append function of 0013 no longer reads {before.strip()!r}")
    return text.replace(before, after)


def marking_function() -> str:
    text = _function_of_0013()
    for before, after in (
        (_DECLARE_BEFORE, _DECLARE_AFTER),
        (_INSERT_BEFORE, _INSERT_AFTER),
        (_RESULT_BEFORE, _RESULT_AFTER),
    ):
        text = _replaced(text, before, after)
    return text


def upgrade() -> None:
    op.execute(marking_function())


def downgrade() -> None:
    op.execute(_function_of_0013())
