"""The read horizon: how far a gap-free reader may read, counting only this database.

`pg_snapshot_xmin` is the oldest transaction still running anywhere on the server, so an
idle transaction in another database would hold every reader here back. This function
returns the oldest transaction that can still commit rows in *this* database: among the
transactions in progress in the caller's snapshot, those whose backend is connected to
this database, and those that have finished since the snapshot was taken (their
database cannot be known any more, so they count). Without any, the snapshot's xmax.

It must run in the statement that reads the events, as `(SELECT tb_read_horizon())`, in
a transaction of its own (autocommit): it is STABLE so it sees the statement's snapshot,
and the server's list of backends is then read after that snapshot was taken. Prepared
(two-phase) transactions have no backend and are not counted: do not write events in
them. Readers should connect as the role that writes, or one granted
`pg_read_all_stats`, so that they see every backend of the database.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION tb_read_horizon() RETURNS xid8
        LANGUAGE sql STABLE PARALLEL RESTRICTED AS $$
            WITH snapshot AS MATERIALIZED (
                SELECT pg_current_snapshot() AS snap
            ),
            here AS MATERIALIZED (
                SELECT backend_xid::text::bigint AS xid
                FROM pg_stat_activity
                WHERE datname = current_database() AND backend_xid IS NOT NULL
            )
            SELECT coalesce(
                min(running.xid),
                (SELECT pg_snapshot_xmax(snap) FROM snapshot)
            )
            FROM snapshot, pg_snapshot_xip(snapshot.snap) AS running(xid)
            WHERE (running.xid::text::bigint % 4294967296) IN (SELECT xid FROM here)
               OR pg_xact_status(running.xid) IS DISTINCT FROM 'in progress'
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION tb_read_horizon()")
