"""A database of its own, migrated up to a given revision, for tests of an upgrade."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

from alembic import command

from tablebook.database import alembic_config, create_database, drop_database
from tablebook.database import with_database as database_of

__all__ = ["database_at"]


@contextlib.contextmanager
def database_at(server_url: str, revision: str, prefix: str = "tb_upgrade") -> Iterator[str]:
    """The URL of a new database of the server at `revision`; dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    url = database_of(server_url, name)
    create_database(server_url, name)
    command.upgrade(alembic_config(url), revision)
    try:
        yield url
    finally:
        drop_database(server_url, name)
