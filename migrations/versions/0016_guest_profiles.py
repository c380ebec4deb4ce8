"""Guest profiles as staff read them: one row per person a venue's events name, and the
bookings that count towards each (the `guests` projection writes them, from the log's
start on the deployment that first has it; `read_models.guests_layout` names them).

Revision ID: 0016
Revises: 0012 (on merge: the latest of 0013-0015 present)
Create Date: 2026-12-06
"""

from alembic import op

revision = "0016"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE rm_guests (
            venue_id text NOT NULL,
            id text NOT NULL,
            name text,
            name_at timestamptz,
            phones text[] NOT NULL DEFAULT '{}',
            emails text[] NOT NULL DEFAULT '{}',
            tags text[] NOT NULL DEFAULT '{}',
            notes text,
            merged_into text,
            version integer NOT NULL DEFAULT 0,
            PRIMARY KEY (venue_id, id)
        )
        """
    )
    op.execute("CREATE INDEX rm_guests_merged ON rm_guests (venue_id, merged_into)")
    op.execute(
        """
        CREATE TABLE rm_guest_bookings (
            venue_id text NOT NULL,
            booking_id text NOT NULL,
            guest_id text NOT NULL,
            service_date date NOT NULL,
            starts_at timestamptz NOT NULL,
            party_size integer NOT NULL,
            status text NOT NULL,
            PRIMARY KEY (venue_id, booking_id)
        )
        """
    )
    op.execute(
        "CREATE INDEX rm_guest_bookings_guest"
        " ON rm_guest_bookings (venue_id, guest_id, starts_at DESC)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE rm_guest_bookings")
    op.execute("DROP TABLE rm_guests")
    # Its projection's checkpoint goes with it: upgraded again, it reads the log afresh.
    op.execute("DELETE FROM projection_checkpoints WHERE name = 'guests'")
