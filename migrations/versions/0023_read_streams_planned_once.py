"""A decision's read of its streams is planned once per connection, not at every call.

`tb_read_streams(streams, from_versions)` returns what the store's read of several streams
returned as a bare statement: the events of each stream from a version on, each with its
person's key, ordered by stream and version. As a bare prepared statement, PostgreSQL
planned it again at every call: the arrays' lengths make each custom plan look cheaper
than the generic one, and planning cost three times the execution (0.15 ms against 0.045
per read, measured with pg_stat_statements under the `api` bench). The function keeps one
generic plan per connection (`plan_cache_mode` is set for its calls only), and that plan
stays with the connection while the table grows, until an ANALYZE replaces it. So it must
not turn on the table's statistics: each wanted stream is a lateral subquery (`OFFSET 0`
keeps it one) and each sealed event's key a scalar subquery, and sequential scans are
off for the function's calls, so both are index scans (`events_stream_version`,
`person_keys_pkey`) whatever the statistics say. Without that, a plan made while the
table was small, or analyzed while small, scanned it whole: the old join's generic plan
was a sequential scan with a hash join (1 ms a read at a few thousand events), and even
the lateral form's was a sequential scan per stream once `events` had been analyzed with
60 rows (44 ms a read after 200,000 more).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06
"""

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION tb_read_streams(p_streams text[], p_from_versions int[])
        RETURNS TABLE (
            r_position bigint, r_tx bigint, r_stream_id text, r_version bigint, r_type text,
            r_schema_version smallint, r_data jsonb, r_metadata jsonb,
            r_recorded_at timestamptz, r_key bytea
        )
        LANGUAGE plpgsql STABLE
        SET plan_cache_mode = force_generic_plan
        SET enable_seqscan = off
        AS $$
        BEGIN
            RETURN QUERY
            SELECT e.position, e.tx::text::bigint, e.stream_id, e.version, e.type,
                   e.schema_version, e.data, e.metadata, e.recorded_at,
                   CASE WHEN e.data ? '_sealed' THEN (
                       SELECT k.key FROM person_keys k WHERE k.person = e.data->>'person'
                   ) END
            FROM unnest(p_streams, p_from_versions) AS wanted(stream_id, from_version)
            CROSS JOIN LATERAL (
                SELECT * FROM events
                WHERE events.stream_id = wanted.stream_id
                  AND events.version >= wanted.from_version
                OFFSET 0
            ) AS e
            ORDER BY e.stream_id, e.version;
        END;
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION tb_read_streams(text[], int[])")
