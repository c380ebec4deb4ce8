"""`/docs` and `/redoc` load nothing from elsewhere: every script, style and icon they
name is served here, with the right content type."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

Client = AsyncTestClient[Litestar]

CONTENT_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".png": "image/png",
}


class _Links(HTMLParser):
    """Every URL a page makes the browser fetch: `src` and `href` of its elements."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [v for k, v in attrs if k in ("src", "href") and v]


def _fetched_by(page: str) -> list[str]:
    links = _Links()
    links.feed(page)
    return links.urls


@pytest.mark.parametrize(
    ("page", "script"),
    [("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")],
)
async def test_the_api_docs_need_nothing_but_this_server(
    client: Client, page: str, script: str
) -> None:
    html = await client.get(page)
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    urls = _fetched_by(html.text)
    assert any(url.endswith(script) for url in urls), urls
    assert "fonts.googleapis.com" not in html.text

    for url in urls:
        assert urlsplit(url).netloc == "", f"{page} loads {url} from elsewhere"
        assert url.startswith("/"), url
        asset = await client.get(url)
        assert asset.status_code == 200, url
        kind = CONTENT_TYPES[url[url.rindex(".") :]]
        assert asset.headers["content-type"].startswith(kind), (url, asset.headers)
        assert len(asset.content) > 0


async def test_the_docs_assets_are_not_part_of_the_api_schema(client: Client) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert not [path for path in schema["paths"] if path.startswith("/docs-assets")]


async def test_only_the_files_the_pages_load_are_served(client: Client) -> None:
    for elsewhere in ("index.html", "swagger-initializer.js", "swagger-ui-bundle.js.map"):
        assert (await client.get(f"/docs-assets/swagger-ui/{elsewhere}")).status_code == 404
    assert (await client.get("/docs-assets/redoc/LICENSE")).status_code == 404
