"""The outbox keeps no manage tokens: the sender reads a booking's token, sealed, from its
first event when it sends (`tablebook.notifications`). Rows written before kept it in the
clear in `details`; this removes it from every one of them.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "UPDATE notifications SET details = details - 'manage_token' WHERE details ? 'manage_token'"
    )


def downgrade() -> None:
    """Nothing to put back: the tokens stay sealed in the events, where the sender reads them."""
