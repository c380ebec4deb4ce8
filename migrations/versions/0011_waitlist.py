"""The waitlist: one row per entry of a service day's list (`rm_waitlist`), and a kind of
notification for it, "your table is ready" (`table_ready`).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_KINDS = "'placed', 'changed', 'cancelled', 'reminder'"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE rm_waitlist (
            id text NOT NULL,
            venue_id text NOT NULL,
            service_date date NOT NULL,
            party_size integer NOT NULL,
            guest_name text NOT NULL,
            guest_phone text,
            notes text,
            quoted_wait_minutes integer,
            token_hash text NOT NULL,
            status text NOT NULL CHECK (status IN ('waiting', 'seated', 'removed')),
            added_at timestamptz NOT NULL,
            added_version integer NOT NULL,
            notified_at timestamptz,
            times_notified integer NOT NULL DEFAULT 0,
            seated_at timestamptz,
            booking_id text,
            table_ids text[],
            waited_minutes integer,
            removed_at timestamptz,
            removed_reason text,
            version integer NOT NULL,
            updated_at timestamptz NOT NULL,
            PRIMARY KEY (venue_id, id)
        )
        """
    )
    op.execute("CREATE INDEX rm_waitlist_day ON rm_waitlist (venue_id, service_date, status)")
    op.execute("ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check")
    op.execute(
        "ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check"
        f" CHECK (kind IN ({_KINDS}, 'table_ready'))"
    )


def downgrade() -> None:
    op.execute("DELETE FROM notifications WHERE kind = 'table_ready'")
    op.execute("ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check")
    op.execute(
        "ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check"
        f" CHECK (kind IN ({_KINDS}))"
    )
    op.execute("DROP TABLE rm_waitlist")
