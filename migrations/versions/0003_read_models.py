"""Read-model tables: bookings, the venue (tables, layouts, hours, closures, blocks), stats.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Trigram search on guest details where the server has pg_trgm; plain scans otherwise.
    op.execute(
        """
        DO $$ BEGIN
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
        EXCEPTION WHEN OTHERS THEN
            RAISE NOTICE 'pg_trgm unavailable: guest search will scan';
        END $$
        """
    )
    op.execute(
        """
        CREATE TABLE rm_bookings (
            id text PRIMARY KEY,
            table_ids text[] NOT NULL,
            service_date date NOT NULL,
            date date NOT NULL,
            time time NOT NULL,
            end_time time NOT NULL,
            starts_at timestamptz NOT NULL,
            ends_at timestamptz NOT NULL,
            party_size integer NOT NULL,
            duration_minutes integer NOT NULL,
            guest_name text NOT NULL,
            guest_phone text,
            guest_email text,
            special_requests text,
            status text NOT NULL,
            user_id text,
            source text NOT NULL DEFAULT 'web',
            version integer NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            search text GENERATED ALWAYS AS (
                lower(guest_name || ' ' || coalesce(guest_phone, '') || ' '
                      || coalesce(guest_email, ''))
            ) STORED
        )
        """
    )
    op.execute("CREATE INDEX rm_bookings_user ON rm_bookings (user_id, starts_at)")
    op.execute("CREATE INDEX rm_bookings_day ON rm_bookings (service_date, status)")
    op.execute("CREATE INDEX rm_bookings_starts ON rm_bookings (starts_at)")
    op.execute("CREATE INDEX rm_bookings_tables ON rm_bookings USING gin (table_ids)")
    op.execute(
        """
        DO $$ BEGIN
            IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
                CREATE INDEX rm_bookings_search ON rm_bookings USING gin (search gin_trgm_ops);
            END IF;
        END $$
        """
    )
    op.execute(
        """
        CREATE TABLE rm_tables (
            id text PRIMARY KEY,
            name text NOT NULL,
            capacity integer NOT NULL,
            min_capacity integer NOT NULL,
            area text,
            x double precision,
            y double precision,
            width double precision,
            height double precision,
            rotation double precision,
            shape text,
            retired boolean NOT NULL DEFAULT false,
            version integer NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        )
        """
    )
    op.execute(
        """
        CREATE TABLE rm_layouts (
            id text PRIMARY KEY,
            name text NOT NULL,
            tables jsonb NOT NULL,
            areas jsonb NOT NULL DEFAULT '[]'::jsonb,
            canvas jsonb,
            active boolean NOT NULL DEFAULT false,
            version integer NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        )
        """
    )
    op.execute(
        """
        CREATE TABLE rm_venue (
            id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
            opening_hours jsonb NOT NULL,
            time_slots jsonb NOT NULL,
            version integer NOT NULL,
            updated_at timestamptz NOT NULL
        )
        """
    )
    op.execute(
        """
        CREATE TABLE rm_closures (
            date date PRIMARY KEY,
            reason text NOT NULL,
            created_at timestamptz NOT NULL
        )
        """
    )
    op.execute(
        """
        CREATE TABLE rm_blocks (
            id text PRIMARY KEY,
            table_id text NOT NULL,
            service_date date NOT NULL,
            starts_at timestamptz NOT NULL,
            ends_at timestamptz NOT NULL,
            reason text NOT NULL,
            created_at timestamptz NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX rm_blocks_table_day ON rm_blocks (table_id, service_date)")
    op.execute(
        """
        CREATE TABLE rm_daily_stats (
            service_date date PRIMARY KEY,
            bookings integer NOT NULL DEFAULT 0,
            covers integer NOT NULL DEFAULT 0,
            cancellations integer NOT NULL DEFAULT 0,
            no_shows integer NOT NULL DEFAULT 0,
            seated integer NOT NULL DEFAULT 0,
            completed integer NOT NULL DEFAULT 0,
            booked_seat_minutes bigint NOT NULL DEFAULT 0,
            open_seat_minutes bigint NOT NULL DEFAULT 0
        )
        """
    )
    # The stats projection's own memory of each booking and of the floor, so a change or a
    # cancellation can take back exactly what the booking had added.
    op.execute(
        """
        CREATE TABLE rm_stats_bookings (
            id text PRIMARY KEY,
            service_date date NOT NULL,
            party_size integer NOT NULL,
            seat_minutes integer NOT NULL,
            status text NOT NULL,
            source text NOT NULL
        )
        """
    )
    op.execute(
        """
        CREATE TABLE rm_stats_floor (
            id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
            opening_hours jsonb NOT NULL DEFAULT '{}'::jsonb,
            time_zone text NOT NULL DEFAULT 'UTC',
            capacities jsonb NOT NULL DEFAULT '{}'::jsonb,
            closures jsonb NOT NULL DEFAULT '[]'::jsonb
        )
        """
    )
    op.execute(
        """
        CREATE TABLE rm_daily_breakdown (
            service_date date NOT NULL,
            dimension text NOT NULL,
            key text NOT NULL,
            bookings integer NOT NULL DEFAULT 0,
            covers integer NOT NULL DEFAULT 0,
            PRIMARY KEY (service_date, dimension, key)
        )
        """
    )


def downgrade() -> None:
    for table in (
        "rm_daily_breakdown",
        "rm_stats_floor",
        "rm_stats_bookings",
        "rm_daily_stats",
        "rm_blocks",
        "rm_closures",
        "rm_venue",
        "rm_layouts",
        "rm_tables",
        "rm_bookings",
    ):
        op.execute(f"DROP TABLE {table}")
