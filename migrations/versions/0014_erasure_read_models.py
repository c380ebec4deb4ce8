"""Erasure in the read models: the rows that keep a guest's personal fields name the
person they belong to (`person`, a `gst_…` id), so a `PersonErased` finds and scrubs them.

Bookings, waitlist entries and notifications made before persons existed are filled from
the events that created them: the person is in the clear beside the sealed fields of a
`BookingPlaced` / `WaitlistEntryAdded` (a rebuild writes the same).

Revision ID: 0014
Revises: 0016
Create Date: 2026-12-06
"""

from alembic import op

revision = "0014"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("rm_bookings", "rm_waitlist", "notifications"):
        op.execute(f"ALTER TABLE {table} ADD COLUMN person text")
        op.execute(
            f"CREATE INDEX {table}_person ON {table} (venue_id, person) WHERE person IS NOT NULL"
        )
    # An event's venue is its stream's (`booking_core.domain.streams.venue_of`): the part
    # before a `/`, or the default venue's id for a bare name.
    op.execute(
        """
        UPDATE rm_bookings b SET person = e.data->>'person'
        FROM events e
        WHERE e.type = 'BookingPlaced' AND e.data->>'booking_id' = b.id
          AND CASE WHEN strpos(e.stream_id, '/') > 0 THEN split_part(e.stream_id, '/', 1)
                   ELSE 'default' END = b.venue_id AND e.data->>'person' IS NOT NULL
        """
    )
    op.execute(
        """
        UPDATE rm_waitlist w SET person = e.data->>'person'
        FROM events e
        WHERE e.type = 'WaitlistEntryAdded' AND e.data->>'entry_id' = w.id
          AND CASE WHEN strpos(e.stream_id, '/') > 0 THEN split_part(e.stream_id, '/', 1)
                   ELSE 'default' END = w.venue_id AND e.data->>'person' IS NOT NULL
        """
    )
    # A booking's messages carry the booking's id, a waiting party's its entry's id.
    op.execute(
        """
        UPDATE notifications n SET person = e.data->>'person'
        FROM events e
        WHERE e.type IN ('BookingPlaced', 'WaitlistEntryAdded')
          AND coalesce(e.data->>'booking_id', e.data->>'entry_id') = n.booking_id
          AND CASE WHEN strpos(e.stream_id, '/') > 0 THEN split_part(e.stream_id, '/', 1)
                   ELSE 'default' END = n.venue_id AND e.data->>'person' IS NOT NULL
        """
    )


def downgrade() -> None:
    for table in ("notifications", "rm_waitlist", "rm_bookings"):
        op.execute(f"ALTER TABLE {table} DROP COLUMN person")
