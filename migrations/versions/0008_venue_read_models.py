"""Every read-model row belongs to one venue: a `venue_id` column on each read-model table,
part of the key wherever the key was only unique within a venue.

What a deployment holds when this runs was all written to the default venue's streams
(`booking_core.domain.streams`), so every existing row is the default venue's: the column
is filled with its id, which is exactly what rebuilding the models from the log gives. No
event is touched. The default is then dropped, so a projection that forgot to say which
venue a row is of fails loudly instead of filing it under the default venue.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_DEFAULT = "default"

# table -> its new primary key (None: the key stays as it is)
_TABLES: dict[str, tuple[str, ...] | None] = {
    "rm_bookings": None,
    "rm_tables": ("venue_id", "id"),
    "rm_layouts": ("venue_id", "id"),
    "rm_venue": ("venue_id",),
    "rm_closures": ("venue_id", "date"),
    "rm_blocks": ("venue_id", "id"),
    "rm_daily_stats": ("venue_id", "service_date"),
    "rm_stats_bookings": None,
    "rm_stats_floor": ("venue_id",),
    "rm_daily_breakdown": ("venue_id", "service_date", "dimension", "key"),
    "notifications": None,
    "notification_venue": ("venue_id",),
}
_SINGLE_ROW = ("rm_venue", "rm_stats_floor", "notification_venue")
"""Tables that held the one venue's single row, keyed by a constant `id`."""


def upgrade() -> None:
    for table, key in _TABLES.items():
        op.execute(f"ALTER TABLE {table} ADD COLUMN venue_id text NOT NULL DEFAULT '{_DEFAULT}'")
        op.execute(f"ALTER TABLE {table} ALTER COLUMN venue_id DROP DEFAULT")
        if key is None:
            continue
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {table}_pkey")
        if table in _SINGLE_ROW:
            op.execute(f"ALTER TABLE {table} DROP COLUMN id")
        op.execute(f"ALTER TABLE {table} ADD PRIMARY KEY ({', '.join(key)})")
    op.execute("DROP INDEX rm_bookings_user")
    op.execute("DROP INDEX rm_bookings_day")
    op.execute("DROP INDEX rm_bookings_starts")
    op.execute("CREATE INDEX rm_bookings_user ON rm_bookings (user_id, starts_at)")
    op.execute("CREATE INDEX rm_bookings_day ON rm_bookings (venue_id, service_date, status)")
    op.execute("CREATE INDEX rm_bookings_starts ON rm_bookings (venue_id, starts_at)")
    op.execute("DROP INDEX rm_blocks_table_day")
    op.execute("CREATE INDEX rm_blocks_table_day ON rm_blocks (venue_id, table_id, service_date)")


def downgrade() -> None:
    op.execute("DROP INDEX rm_blocks_table_day")
    op.execute("CREATE INDEX rm_blocks_table_day ON rm_blocks (table_id, service_date)")
    op.execute("DROP INDEX rm_bookings_day")
    op.execute("DROP INDEX rm_bookings_starts")
    op.execute("CREATE INDEX rm_bookings_day ON rm_bookings (service_date, status)")
    op.execute("CREATE INDEX rm_bookings_starts ON rm_bookings (starts_at)")
    for table, key in _TABLES.items():
        op.execute(f"DELETE FROM {table} WHERE venue_id <> 'default'")  # noqa: S608 (constants)
        if key is not None:
            op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {table}_pkey")
            if table in _SINGLE_ROW:
                op.execute(f"ALTER TABLE {table} ADD COLUMN id smallint NOT NULL DEFAULT 1")
                op.execute(f"ALTER TABLE {table} ADD PRIMARY KEY (id)")
            else:
                old = [column for column in key if column != "venue_id"]
                op.execute(f"ALTER TABLE {table} ADD PRIMARY KEY ({', '.join(old)})")
        op.execute(f"ALTER TABLE {table} DROP COLUMN venue_id")
