"""Per-person keys for the personal fields in events (crypto-shredding), the index from
identities to persons, and the append function that seals under them.

`person_keys` holds one AES-256 key per person (`gst_…`) of a venue; erasing a person
deletes their row, and with it every personal field sealed under it becomes unreadable
(`booking_core.store.sealing`). `person_index` maps the SHA-256 of an identity
(`user:{id}`, `email:{address}`, `phone:{digits}`, `booking_core.domain.identity`) to
the venue's person; its rows go with the person's key.

`tb_append` takes the persons an append's payloads were sealed under: it creates the keys
of fresh ones and claims their identities, and checks the others still have the key the
payloads were sealed with, in the append's own transaction (TB412 otherwise).

The upgrade then seals the events written before, in place (the one rewrite of `events`
there is; no trigger guards it): each booking's and waitlist entry's first event is
resolved to a person by the rules the store applies to new events (a guest account that
booked for itself, else the email, else the phone, else a person of its own, per venue),
its later events take the same person, and every one is sealed under a fresh key. After
it no personal field is left in the clear in `events`. The downgrade opens them again
(an erased person's fields stay erased). `idempotency_keys` holds no personal data (only
stream versions and a fingerprint hash), so it is left as it is.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

import json
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

from booking_core.domain.identity import identity_digest, payload_identity
from booking_core.domain.personal import PERSONAL_FIELDS, new_person_id
from booking_core.domain.streams import venue_of
from booking_core.store.sealing import SEALED, new_key, open_sealed, seal
from migrations.revisions import revision_module

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_OLD_SIGNATURE = (
    "tb_append(text[], bigint[], integer[], text[], smallint[], jsonb[], jsonb[], text,"
    " text, jsonb)"
)
_NEW_SIGNATURE = (
    "tb_append(text[], bigint[], integer[], text[], smallint[], jsonb[], jsonb[], text,"
    " text, jsonb, text[], text[], bytea[], bytea[], boolean[])"
)

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
    p_payload jsonb DEFAULT NULL,
    p_persons text[] DEFAULT NULL,
    p_person_venues text[] DEFAULT NULL,
    p_person_digests bytea[] DEFAULT NULL,
    p_person_keys bytea[] DEFAULT NULL,
    p_person_fresh boolean[] DEFAULT NULL
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
    v_claims integer;
    v_claimed integer;
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

    IF coalesce(array_length(p_persons, 1), 0) > 0 THEN
        -- The persons whose keys the payloads were sealed under. A fresh one gets its key
        -- and, when it was resolved from an identity, claims that identity; a claim
        -- another append made first, or a known person whose key or claim is gone (it was
        -- erased) or differs, means the payloads were sealed on a stale view: TB412, and
        -- the caller seals again after looking the persons up.
        INSERT INTO person_keys (person, venue_id, key)
        SELECT w.person, w.venue_id, w.key
        FROM unnest(p_persons, p_person_venues, p_person_keys, p_person_fresh)
            AS w(person, venue_id, key, fresh)
        WHERE w.fresh;
        SELECT count(*) INTO v_claims
        FROM unnest(p_person_digests, p_person_fresh) AS w(digest, fresh)
        WHERE w.fresh AND w.digest IS NOT NULL;
        IF v_claims > 0 THEN
            INSERT INTO person_index (venue_id, digest, person)
            SELECT w.venue_id, w.digest, w.person
            FROM unnest(p_persons, p_person_venues, p_person_digests, p_person_fresh)
                AS w(person, venue_id, digest, fresh)
            WHERE w.fresh AND w.digest IS NOT NULL
            ON CONFLICT DO NOTHING;
            GET DIAGNOSTICS v_claimed = ROW_COUNT;
            IF v_claimed <> v_claims THEN
                RAISE EXCEPTION USING ERRCODE = 'TB412', MESSAGE = 'persons moved';
            END IF;
        END IF;
        IF EXISTS (
            SELECT 1
            FROM unnest(p_persons, p_person_venues, p_person_digests, p_person_keys,
                        p_person_fresh) AS w(person, venue_id, digest, key, fresh)
            LEFT JOIN person_keys k ON k.person = w.person
            WHERE NOT w.fresh
              AND (k.key IS DISTINCT FROM w.key
                   OR (k.person IS NOT NULL AND k.venue_id <> w.venue_id)
                   OR (w.digest IS NOT NULL AND NOT EXISTS (
                       SELECT 1 FROM person_index i
                       WHERE i.venue_id = w.venue_id AND i.digest = w.digest
                         AND i.person = w.person)))
        ) THEN
            RAISE EXCEPTION USING ERRCODE = 'TB412', MESSAGE = 'persons moved';
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
        CREATE TABLE person_keys (
            person text PRIMARY KEY,
            venue_id text NOT NULL,
            key bytea NOT NULL CHECK (length(key) = 32),
            created_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX person_keys_venue ON person_keys (venue_id)")
    op.execute(
        """
        CREATE TABLE person_index (
            venue_id text NOT NULL,
            digest bytea NOT NULL,
            person text NOT NULL REFERENCES person_keys (person) ON DELETE CASCADE,
            PRIMARY KEY (venue_id, digest)
        )
        """
    )
    op.execute("CREATE INDEX person_index_person ON person_index (person)")
    # A person's events, for their export and erasure (only sealed events are indexed).
    op.execute("CREATE INDEX events_person ON events ((data->>'person')) WHERE data ? '_sealed'")
    op.execute(f"DROP FUNCTION {_OLD_SIGNATURE}")
    op.execute(APPEND_FUNCTION)
    _seal_existing(op.get_bind())


def downgrade() -> None:
    _open_existing(op.get_bind())
    op.execute(f"DROP FUNCTION {_NEW_SIGNATURE}")
    op.execute(_first_append_function())
    op.execute("DROP INDEX events_person")
    op.execute("DROP TABLE person_index")
    op.execute("DROP TABLE person_keys")


def _first_append_function() -> str:
    """The append function as the first migration made it."""
    return str(revision_module("0001_event_store.py").APPEND_FUNCTION)


_BATCH = 2000
_TYPES = sorted(PERSONAL_FIELDS)
_FIRST_EVENTS = {"BookingPlaced": "booking_id", "WaitlistEntryAdded": "entry_id"}
_LATER_EVENTS = {"BookingChanged": "booking_id", "WaitlistGuestNotified": "entry_id"}


_SELECT_BATCH = """
SELECT events.position, events.stream_id, events.type, events.data::text, person_keys.key
FROM events LEFT JOIN person_keys ON person_keys.person = events.data->>'person'
WHERE events.position > :last AND events.type = ANY(:types)
  AND (events.data ? '_sealed') = :sealed
ORDER BY events.position LIMIT :limit
"""


def _batches(connection: sa.Connection, *, sealed: bool) -> Iterator[list[Any]]:
    """The personal events, sealed or not, in log order, a batch at a time."""
    last = 0
    while True:
        rows = connection.execute(
            sa.text(_SELECT_BATCH),
            {"last": last, "types": _TYPES, "limit": _BATCH, "sealed": sealed},
        ).all()
        if not rows:
            return
        yield list(rows)
        last = rows[-1][0]


def _rewrite(connection: sa.Connection, updates: list[dict[str, Any]]) -> None:
    if updates:
        connection.execute(
            sa.text("UPDATE events SET data = CAST(:data AS jsonb) WHERE position = :position"),
            updates,
        )


def _seal_existing(connection: sa.Connection) -> None:
    guests = {
        row[0]
        for row in connection.execute(sa.text("SELECT id FROM users WHERE role = 'system_user'"))
    }
    staff = {
        (row[0], row[1])
        for row in connection.execute(sa.text("SELECT venue_id, user_id FROM venue_staff"))
    }
    keys: dict[str, tuple[str, bytes]] = {}
    """Person → (venue, key), made by this upgrade."""
    identities: dict[tuple[str, bytes], str] = {}
    firsts: dict[tuple[str, str], str] = {}
    """(venue, booking or entry id) → the person of its first event."""

    def fresh(venue_id: str, digest: bytes | None) -> str:
        if digest is not None and (venue_id, digest) in identities:
            return identities[(venue_id, digest)]
        person = new_person_id()
        keys[person] = (venue_id, new_key())
        if digest is not None:
            identities[(venue_id, digest)] = person
        return person

    for rows in _batches(connection, sealed=False):
        updates = []
        for position, stream_id, event_type, text, _ in rows:
            payload = json.loads(text)
            venue_id = venue_of(stream_id)
            id_field = _FIRST_EVENTS.get(event_type) or _LATER_EVENTS.get(event_type, "")
            entity = (venue_id, str(payload.get(id_field)))
            person = payload.get("person")
            if not isinstance(person, str) or person not in keys:
                person = firsts.get(entity) if event_type in _LATER_EVENTS else None
            if person is None:
                user = payload.get("user_id")
                account = (
                    user
                    if event_type == "BookingPlaced"
                    and user in guests
                    and (venue_id, user) not in staff
                    else None
                )
                identity = payload_identity(payload, account)
                person = fresh(venue_id, identity_digest(identity) if identity else None)
            if event_type in _FIRST_EVENTS:
                firsts.setdefault(entity, person)
            payload["person"] = person
            sealed = seal(event_type, payload, keys[person][1])
            updates.append({"position": position, "data": json.dumps(sealed)})
        _rewrite(connection, updates)

    if keys:
        connection.execute(
            sa.text(
                "INSERT INTO person_keys (person, venue_id, key) VALUES (:person, :venue, :key)"
            ),
            [{"person": p, "venue": v, "key": k} for p, (v, k) in keys.items()],
        )
    if identities:
        connection.execute(
            sa.text(
                "INSERT INTO person_index (venue_id, digest, person)"
                " VALUES (:venue, :digest, :person)"
            ),
            [{"venue": v, "digest": d, "person": p} for (v, d), p in identities.items()],
        )


def _open_existing(connection: sa.Connection) -> None:
    """Put sealed fields back in the clear (erased ones stay erased), for the schema before."""
    for rows in _batches(connection, sealed=True):
        updates = []
        for position, _, event_type, text, key in rows:
            opened = open_sealed(event_type, json.loads(text), bytes(key) if key else None)
            assert SEALED not in opened
            updates.append({"position": position, "data": json.dumps(opened)})
        _rewrite(connection, updates)
