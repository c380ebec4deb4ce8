"""The stats projection keeps the floor's history, so a day counts the floor of that day.

A floor change now counts from the date its event carries rather than from the date the
projection happened to read it, which a rebuild could not reproduce. The stats model is
emptied and its checkpoint reset: the projector daemon counts it again from the log.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_STATS_TABLES = ("rm_daily_stats", "rm_daily_breakdown", "rm_stats_bookings", "rm_stats_floor")


def upgrade() -> None:
    op.execute("ALTER TABLE rm_stats_floor ADD COLUMN versions jsonb NOT NULL DEFAULT '[]'::jsonb")
    op.execute(f"TRUNCATE {', '.join(_STATS_TABLES)}")
    op.execute("DELETE FROM projection_checkpoints WHERE name = 'stats'")


def downgrade() -> None:
    op.execute("ALTER TABLE rm_stats_floor DROP COLUMN versions")
