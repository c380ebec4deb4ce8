"""Users and their credentials: the one piece of state that is not event-sourced.

Accounts are configuration of who may sign in, not facts about the restaurant's book;
they live in a plain table. `token_version` is bumped on deactivation, deletion and role
changes, so tokens issued before stop working at once.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE users (
            id text PRIMARY KEY,
            email text NOT NULL,
            password_hash text NOT NULL,
            full_name text NOT NULL,
            phone text,
            role text NOT NULL DEFAULT 'system_user'
                CHECK (role IN ('system_user', 'admin')),
            is_active boolean NOT NULL DEFAULT true,
            token_version integer NOT NULL DEFAULT 0,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE UNIQUE INDEX users_email_key ON users (lower(email))")
    op.execute("CREATE INDEX users_created_idx ON users (created_at, id)")


def downgrade() -> None:
    op.execute("DROP TABLE users")
