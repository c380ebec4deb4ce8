"""`/docs` (Swagger UI) and `/redoc` (ReDoc), working with no internet access.

Litestar's pages load their scripts, styles, favicon and fonts from CDNs by default, so
on a network without the internet they are blank. Here every asset comes from this
server, under `/docs-assets/`: Swagger UI from the `swagger-ui-bundle-v2` package, ReDoc
from the standalone bundle shipped in `api/redoc/` (npm's `redoc`, MIT; see its README).
"""

from __future__ import annotations

from pathlib import Path

from litestar import Router, get
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import (
    OpenAPIRenderPlugin,
    RedocRenderPlugin,
    SwaggerRenderPlugin,
)
from litestar.params import FromPath
from litestar.response import File
from swagger_ui_bundle import swagger_ui_path

__all__ = ["ASSETS", "docs_assets_router", "docs_render_plugins"]

ASSETS = "/docs-assets"
REDOC_DIR = Path(__file__).with_name("redoc")
_SWAGGER = f"{ASSETS}/swagger-ui"
_REDOC = f"{ASSETS}/redoc"
_FAVICON = f"<link rel='icon' type='image/png' href='{_SWAGGER}/favicon-32x32.png'>"


def docs_render_plugins() -> list[OpenAPIRenderPlugin]:
    return [
        SwaggerRenderPlugin(
            path="/docs",
            js_url=f"{_SWAGGER}/swagger-ui-bundle.js",
            css_url=f"{_SWAGGER}/swagger-ui.css",
            standalone_preset_js_url=f"{_SWAGGER}/swagger-ui-standalone-preset.js",
            favicon=_FAVICON,
        ),
        RedocRenderPlugin(
            path="/redoc",
            js_url=f"{_REDOC}/redoc.standalone.js",
            google_fonts=False,
            favicon=_FAVICON,
        ),
    ]


_ASSET_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
_ASSETS: dict[str, Path] = {
    **{
        f"swagger-ui/{name}": Path(str(swagger_ui_path)) / name
        for name in (
            "swagger-ui-bundle.js",
            "swagger-ui.css",
            "swagger-ui-standalone-preset.js",
            "favicon-32x32.png",
        )
    },
    "redoc/redoc.standalone.js": REDOC_DIR / "redoc.standalone.js",
}
"""Exactly the files the two pages load: not the rest of their packages (Swagger UI's
own index page, which points at a demo API elsewhere, its OAuth redirect page, source
maps), which this server has no reason to serve."""


@get(
    "/{kind:str}/{name:str}",
    include_in_schema=False,
    cache_control=CacheControlHeader(max_age=86_400),
    sync_to_thread=False,
)
def _docs_asset(kind: FromPath[str], name: FromPath[str]) -> File:
    path = _ASSETS.get(f"{kind}/{name}")
    if path is None:
        raise NotFoundException(detail="No such asset of the API docs.")
    return File(path=path, media_type=_ASSET_TYPES[path.suffix], content_disposition_type="inline")


def docs_assets_router() -> Router:
    """The pages' scripts and styles. They change only with the package, so a browser may
    keep them for a day."""
    return Router(path=ASSETS, route_handlers=[_docs_asset])
