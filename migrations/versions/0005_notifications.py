"""Notifications: the outbox the notifications process manager fills and the sender
drains, and the venue facts the messages quote (time zone, table names).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One row per message: the id is `{booking_id}:{kind}:{booking_version}:{channel}`, so
    # applying an event twice writes nothing new. `next_attempt_at` is when the sender may
    # next take the row: the due time, a retry's backoff, or the end of a claim's lease.
    op.execute(
        """
        CREATE TABLE notifications (
            id text PRIMARY KEY,
            booking_id text NOT NULL,
            kind text NOT NULL CHECK (kind IN ('placed', 'changed', 'cancelled', 'reminder')),
            channel text NOT NULL CHECK (channel IN ('email', 'sms')),
            booking_version integer NOT NULL,
            recipient text,
            details jsonb NOT NULL,
            status text NOT NULL DEFAULT 'pending' CHECK (
                status IN ('pending', 'sending', 'sent', 'failed', 'skipped', 'cancelled')
            ),
            due_at timestamptz NOT NULL,
            expires_at timestamptz,
            next_attempt_at timestamptz NOT NULL,
            attempts integer NOT NULL DEFAULT 0,
            last_error text,
            reason text,
            provider_ref text,
            sent_at timestamptz,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        )
        """
    )
    op.execute(
        "CREATE INDEX notifications_due ON notifications (next_attempt_at)"
        " WHERE status IN ('pending', 'sending')"
    )
    op.execute("CREATE INDEX notifications_booking ON notifications (booking_id, booking_version)")
    op.execute("CREATE INDEX notifications_recent ON notifications (created_at, id)")
    op.execute("CREATE INDEX notifications_status_recent ON notifications (status, created_at, id)")
    op.execute(
        """
        CREATE TABLE notification_venue (
            id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
            time_zone text NOT NULL DEFAULT 'UTC',
            table_names jsonb NOT NULL DEFAULT '{}'::jsonb
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE notification_venue")
    op.execute("DROP TABLE notifications")
