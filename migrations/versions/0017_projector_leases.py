"""Projector leases: of the daemons running the same projections, one applies them.

One row per lease (named after the projections its daemons run): who holds it, the
epoch of the holding (one more at every taking, the fencing token a batch checks in its
own transaction), when it was taken and when it runs out, and the server session the
holder keeps open while it holds the lease (its process id and start), by which the others
see at once that a holder has died. Every time comes from PostgreSQL's clock, never a
daemon's. A lease released (or never taken yet) has no holder.

Revision ID: 0017
Revises: 0014
Create Date: 2026-12-06
"""

from alembic import op

revision = "0017"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE projector_leases (
            name text PRIMARY KEY,
            holder text NOT NULL DEFAULT '',
            epoch bigint NOT NULL DEFAULT 0,
            acquired_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL DEFAULT now(),
            session_pid integer NOT NULL DEFAULT 0,
            session_start timestamptz
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE projector_leases")
