"""The public booking page: `GET /book/{slug}`, a static page shipped in the package.

Plain HTML, CSS and one script, no framework and no build step, like the console. The
server finds the venue (404 page for a slug no venue holds) and hands out the page; the
page talks only to the public API (`/api/v1/venues/{slug}/public/...` and
`/availability`). `?embed=1` serves the same page marked for an iframe: no header or
footer, a transparent background, and its height posted to the parent window.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Any

from litestar import Request, Response, Router, get
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, QueryParameter
from litestar.static_files import create_static_files_router

from api.context import ApiDep
from api.venue_scope import resolve_venue

__all__ = ["BOOK_DIR", "book_router"]

BOOK_DIR = Path(__file__).with_name("book")
_HTML = "text/html; charset=utf-8"
_NO_CACHE = {"Cache-Control": "no-cache"}


@cache
def _file(name: str) -> str:
    return (BOOK_DIR / name).read_text(encoding="utf-8")


@get("/book/{slug:str}", include_in_schema=False, name="booking-page")
async def booking_page(
    api: ApiDep,
    request: Request[Any, Any, Any],
    slug: FromPath[str],
    embed: Annotated[str | None, QueryParameter(max_length=5)] = None,
    booking: Annotated[str | None, QueryParameter(max_length=200)] = None,
) -> Response[str]:
    """The page for the venue whose slug (or id) is `slug`; a 404 page for none."""
    try:
        await resolve_venue(api, slug)
    except NotFoundException:
        return Response(_file("missing.html"), status_code=404, media_type=_HTML)
    page = _file("index.html")
    if embed == "1":
        page = page.replace('<html lang="en">', '<html lang="en" class="embed">', 1)
    return Response(page, media_type=_HTML, headers=_NO_CACHE)


def book_router() -> Router:
    """The page's route, and its script and styles under `/book/assets`."""
    assets = create_static_files_router(
        path="/book/assets",
        directories=[BOOK_DIR],
        name="book-assets",
        cache_control=CacheControlHeader(no_cache=True),
        include_in_schema=False,
    )
    return Router(path="/", route_handlers=[booking_page, assets], include_in_schema=False)
