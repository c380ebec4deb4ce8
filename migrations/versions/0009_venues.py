"""The venue directory read model, and who works at which venue.

`rm_venues` is the `venues` projection's table: one row per venue, from its
`VenueOpened` (or, for the default venue of a deployment older than the registry, from
its first event). Its checkpoint starts empty, so the projector daemon fills it from the
log.

`venue_staff` is a plain table like `users`, not events: a grant is mutable and goes
with the account when the account is erased.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE rm_venues (
            id text PRIMARY KEY,
            slug text UNIQUE NOT NULL,
            name text NOT NULL,
            time_zone text NOT NULL,
            address text,
            version integer NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            venue_id text GENERATED ALWAYS AS (id) STORED
        )
        """
    )
    op.execute(
        """
        CREATE TABLE venue_staff (
            venue_id text NOT NULL,
            user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            role text NOT NULL CHECK (role IN ('manager', 'host')),
            granted_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (venue_id, user_id)
        )
        """
    )
    op.execute("CREATE INDEX venue_staff_user_idx ON venue_staff (user_id)")


def downgrade() -> None:
    op.execute("DROP TABLE venue_staff")
    op.execute("DROP TABLE rm_venues")
    # Its projection's checkpoint goes with it: upgraded again, it reads the log afresh.
    op.execute("DELETE FROM projection_checkpoints WHERE name = 'venues'")
