"""Parked venues: a projection that cannot apply an event of one venue holds back that
venue's events from there on, and goes on with every other venue's.

One row per (projection, venue): the failing event's position (its `(tx, position)`
token), the error's class and message (never the event's data), when it was parked, and
when an operator asked for it to be resumed (`tablebook projectors unpark`). The daemon
deletes the row once it has applied the held-back events.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE projection_parked_venues (
            projection text NOT NULL,
            venue_id text NOT NULL,
            tx bigint NOT NULL,
            position bigint NOT NULL,
            error_class text NOT NULL,
            error_message text NOT NULL,
            parked_at timestamptz NOT NULL DEFAULT now(),
            resume_requested_at timestamptz,
            PRIMARY KEY (projection, venue_id)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE projection_parked_venues")
