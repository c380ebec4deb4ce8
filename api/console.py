"""The staff console: a static single-page app under `/console`, shipped in the package.

Plain HTML, CSS and JavaScript modules, no build step. It signs in through the public
token route and talks only to the public API, like any other client; the server's part
is to hand out the files.
"""

from __future__ import annotations

from pathlib import Path

from litestar import Router
from litestar.datastructures import CacheControlHeader
from litestar.static_files import create_static_files_router

__all__ = ["CONSOLE_DIR", "console_router"]

CONSOLE_DIR = Path(__file__).with_name("console")


def console_router() -> Router:
    """`GET /console` (and `/console/`) is the app's page; its scripts and styles beside it."""
    return create_static_files_router(
        path="/console",
        directories=[CONSOLE_DIR],
        html_mode=True,
        name="console",
        # The files change with the package; a browser revalidates rather than guesses.
        cache_control=CacheControlHeader(no_cache=True),
        include_in_schema=False,
    )
