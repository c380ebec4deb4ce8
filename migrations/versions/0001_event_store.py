"""The event store: events, streams, idempotency keys, and the append function.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# One call of tb_append is one append: a single round trip and a single transaction.
# Stream rows are locked in stream-id order so multi-stream appends cannot deadlock.
# Expected versions: -1 any, 0 no stream, n exact. Errors carry SQLSTATE TB409 (a stream
# at another version, DETAIL is JSON) or TB422 (an idempotency key reused).
APPEND_FUNCTION = r"""
CREATE FUNCTION tb_append(
    p_streams text[],
    p_expected bigint[],
    p_event_streams integer[],
    p_types text[],
    p_schema_versions smallint[],
    p_data jsonb[],
    p_metadata jsonb[],
    p_idempotency_key text DEFAULT NULL,
    p_fingerprint text DEFAULT NULL,
    p_payload jsonb DEFAULT NULL
) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_stream_count integer := coalesce(array_length(p_streams, 1), 0);
    v_event_count integer := coalesce(array_length(p_types, 1), 0);
    v_counts bigint[] := array_fill(0::bigint, ARRAY[v_stream_count]);
    v_next bigint[] := array_fill(0::bigint, ARRAY[v_stream_count]);
    v_versions bigint[] := array_fill(0::bigint, ARRAY[v_event_count]);
    v_existing record;
    v_actual bigint;
    v_last bigint;
    v_result jsonb;
    i integer;
BEGIN
    IF p_idempotency_key IS NOT NULL THEN
        INSERT INTO idempotency_keys (key, fingerprint) VALUES (p_idempotency_key, p_fingerprint)
        ON CONFLICT (key) DO NOTHING;
        IF NOT FOUND THEN
            SELECT k.fingerprint, k.result INTO v_existing
            FROM idempotency_keys k WHERE k.key = p_idempotency_key;
            IF v_existing.fingerprint IS DISTINCT FROM p_fingerprint THEN
                RAISE EXCEPTION USING ERRCODE = 'TB422', MESSAGE = 'idempotency key reused',
                    DETAIL = p_idempotency_key;
            END IF;
            RETURN v_existing.result || '{"duplicate": true}'::jsonb;
        END IF;
    END IF;

    FOR i IN 1 .. v_event_count LOOP
        v_counts[p_event_streams[i]] := v_counts[p_event_streams[i]] + 1;
    END LOOP;

    FOR i IN SELECT s FROM generate_subscripts(p_streams, 1) AS s ORDER BY p_streams[s] LOOP
        IF v_counts[i] = 0 THEN
            SELECT s.version INTO v_actual FROM streams s
            WHERE s.stream_id = p_streams[i] FOR SHARE;
            v_actual := coalesce(v_actual, 0);
            IF p_expected[i] <> -1 AND v_actual <> p_expected[i] THEN
                RAISE EXCEPTION USING ERRCODE = 'TB409', MESSAGE = 'wrong expected version',
                    DETAIL = jsonb_build_object('stream_id', p_streams[i],
                        'expected', p_expected[i], 'actual', v_actual)::text;
            END IF;
            v_next[i] := v_actual;
        ELSIF p_expected[i] = -1 THEN
            INSERT INTO streams AS s (stream_id, version) VALUES (p_streams[i], v_counts[i])
            ON CONFLICT (stream_id) DO UPDATE SET version = s.version + excluded.version
            RETURNING s.version - v_counts[i] INTO v_actual;
            v_next[i] := v_actual;
        ELSIF p_expected[i] = 0 THEN
            INSERT INTO streams (stream_id, version) VALUES (p_streams[i], v_counts[i])
            ON CONFLICT (stream_id) DO NOTHING;
            IF NOT FOUND THEN
                SELECT s.version INTO v_actual FROM streams s WHERE s.stream_id = p_streams[i];
                RAISE EXCEPTION USING ERRCODE = 'TB409', MESSAGE = 'wrong expected version',
                    DETAIL = jsonb_build_object('stream_id', p_streams[i],
                        'expected', 0, 'actual', v_actual)::text;
            END IF;
            v_next[i] := 0;
        ELSE
            UPDATE streams s SET version = s.version + v_counts[i]
            WHERE s.stream_id = p_streams[i] AND s.version = p_expected[i];
            IF NOT FOUND THEN
                SELECT s.version INTO v_actual FROM streams s WHERE s.stream_id = p_streams[i];
                RAISE EXCEPTION USING ERRCODE = 'TB409', MESSAGE = 'wrong expected version',
                    DETAIL = jsonb_build_object('stream_id', p_streams[i],
                        'expected', p_expected[i], 'actual', coalesce(v_actual, 0))::text;
            END IF;
            v_next[i] := p_expected[i];
        END IF;
    END LOOP;

    FOR i IN 1 .. v_event_count LOOP
        v_next[p_event_streams[i]] := v_next[p_event_streams[i]] + 1;
        v_versions[i] := v_next[p_event_streams[i]];
    END LOOP;

    WITH inserted AS (
        INSERT INTO events (stream_id, version, type, schema_version, data, metadata)
        SELECT p_streams[e.stream_index], e.version, e.type, e.schema_version, e.data, e.metadata
        FROM unnest(p_event_streams, v_versions, p_types, p_schema_versions, p_data, p_metadata)
            WITH ORDINALITY AS e(stream_index, version, type, schema_version, data, metadata, n)
        ORDER BY e.n
        RETURNING position
    )
    SELECT max(position) INTO v_last FROM inserted;

    v_result := jsonb_build_object(
        'versions', (SELECT jsonb_object_agg(p_streams[s], v_next[s])
                     FROM generate_subscripts(p_streams, 1) AS s),
        'tx', pg_current_xact_id()::text::bigint,
        'position', v_last,
        'payload', coalesce(p_payload, 'null'::jsonb));
    IF p_idempotency_key IS NOT NULL THEN
        UPDATE idempotency_keys SET result = v_result WHERE key = p_idempotency_key;
    END IF;
    PERFORM pg_notify('tablebook_events', (v_result->>'tx') || '-' || v_last);
    RETURN v_result;
END;
$$;
"""


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE events (
            position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            tx xid8 NOT NULL DEFAULT pg_current_xact_id(),
            stream_id text NOT NULL,
            version bigint NOT NULL CHECK (version > 0),
            type text NOT NULL,
            schema_version smallint NOT NULL DEFAULT 1,
            data jsonb NOT NULL,
            metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
            recorded_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT events_stream_version UNIQUE (stream_id, version)
        )
        """
    )
    op.execute("CREATE INDEX events_tx_position ON events (tx, position)")
    op.execute("CREATE INDEX events_recorded_at ON events (recorded_at)")
    op.execute(
        """
        CREATE TABLE streams (
            stream_id text PRIMARY KEY,
            version bigint NOT NULL CHECK (version >= 0)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE idempotency_keys (
            key text PRIMARY KEY,
            fingerprint text NOT NULL,
            result jsonb,
            created_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute(APPEND_FUNCTION)


def downgrade() -> None:
    op.execute("DROP FUNCTION tb_append")
    op.execute("DROP TABLE idempotency_keys")
    op.execute("DROP TABLE streams")
    op.execute("DROP TABLE events")
