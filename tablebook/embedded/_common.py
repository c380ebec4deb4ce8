"""What every part of the embedded servers shares: the logger, the loopback address, the
preferred ports, the error and URL types, and where the server wheels are installed."""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("tablebook.embedded")

POSTGRES_PORT = 54329
"""Preferred port of the embedded PostgreSQL; any free port when it is taken."""
VALKEY_PORT = 63799
"""Preferred port of the embedded Valkey; any free port when it is taken."""

HOST = "127.0.0.1"


class EmbeddedServicesError(RuntimeError):
    """An embedded server could not be started or stopped; the message says why."""


@dataclass(frozen=True)
class EmbeddedUrls:
    """Where the embedded servers listen; None for a server that was not asked for."""

    database_url: str | None
    redis_url: str | None


def installed_package(module: str, server: str, variable: str) -> Path:
    """The folder of the wheel `module`, found without importing it (and its client)."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServicesError(
            f"embedded {server} is not installed: pip install 'tablebook[embedded]', "
            f"or set {variable}"
        )
    return Path(next(iter(spec.submodule_search_locations)))
