"""Every change to an account is announced, so an API process can keep accounts it read.

A trigger on `users` notifies `tablebook_accounts` with the id of each row updated or
deleted, and `*` when the table is truncated, in the transaction that changes it (sent
when it commits). `api.accounts.account_cache` forgets the account on the notice. The
trigger covers every writer: the API, the `tablebook users` commands, and an operator's
own SQL.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06
"""

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION tb_account_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'TRUNCATE' THEN
                PERFORM pg_notify('tablebook_accounts', '*');
            ELSE
                PERFORM pg_notify('tablebook_accounts', OLD.id);
            END IF;
            RETURN NULL;
        END;
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER users_changed AFTER UPDATE OR DELETE ON users"
        " FOR EACH ROW EXECUTE FUNCTION tb_account_changed()"
    )
    op.execute(
        "CREATE TRIGGER users_truncated AFTER TRUNCATE ON users"
        " FOR EACH STATEMENT EXECUTE FUNCTION tb_account_changed()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER users_truncated ON users")
    op.execute("DROP TRIGGER users_changed ON users")
    op.execute("DROP FUNCTION tb_account_changed()")
