"""Table combinations as staff read them: one row per combination still offered, of one
venue (the `table_combinations` projection writes it, from the log's start on the
deployment that first has it; `read_models.combinations_layout` names it).

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-05
"""

from alembic import op

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE rm_table_combinations (
            venue_id text NOT NULL,
            id text NOT NULL,
            name text,
            table_ids text[] NOT NULL,
            min_capacity integer NOT NULL,
            capacity integer NOT NULL,
            version integer NOT NULL,
            created_at timestamptz NOT NULL,
            PRIMARY KEY (venue_id, id)
        )
        """
    )
    op.execute(
        "CREATE INDEX rm_table_combinations_created"
        " ON rm_table_combinations (venue_id, created_at, id)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE rm_table_combinations")
    # Its projection's checkpoint goes with it: upgraded again, it reads the log afresh.
    op.execute("DELETE FROM projection_checkpoints WHERE name = 'table_combinations'")
