"""`/docs` (Swagger UI) and `/redoc` (ReDoc), working with no internet access.

Litestar's pages load their scripts, styles, favicon and fonts from CDNs by default, so
on a network without the internet they are blank. Here every asset comes from this
server, under `/docs-assets/`: Swagger UI from the `swagger-ui-bundle-v2` package, ReDoc
from the standalone bundle shipped in `api/redoc/` (npm's `redoc`, MIT; see its README).
"""

from __future__ import annotations

from pathlib import Path

from litestar import Router
from litestar.datastructures import CacheControlHeader
from litestar.openapi.plugins import (
    OpenAPIRenderPlugin,
    RedocRenderPlugin,
    SwaggerRenderPlugin,
)
from litestar.static_files import create_static_files_router
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


def docs_assets_router() -> Router:
    """The pages' scripts and styles. They change only with the package, so a browser may
    keep them for a day."""
    return Router(
        path=ASSETS,
        route_handlers=[
            create_static_files_router(
                path=f"/{name}",
                directories=[directory],
                name=f"docs-assets-{name}",
                cache_control=CacheControlHeader(max_age=86_400),
                include_in_schema=False,
            )
            for name, directory in (
                ("swagger-ui", Path(str(swagger_ui_path))),
                ("redoc", REDOC_DIR),
            )
        ],
    )
