"""The offline docs page: /openapi.json serves the document, and /docs shows it with
the bundled Swagger UI (5.x, which renders OpenAPI 3.1) loading nothing from elsewhere."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from starlette.applications import Starlette

from gateway import docs


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links += [value for name, value in attrs if name in ("src", "href") and value is not None]


@pytest.fixture
async def client(doc: dict[str, Any]) -> AsyncIterator[httpx.AsyncClient]:
    # httpx's ASGI transport, as Starlette's TestClient uses; that client warns about httpx here.
    app = Starlette(routes=docs.routes(doc))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        yield client


async def test_openapi_json_serves_the_document(client: httpx.AsyncClient, doc: dict[str, Any]) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == json.loads(json.dumps(doc))


async def test_the_docs_page_works_offline(client: httpx.AsyncClient, doc: dict[str, Any]) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert not re.search(r"https?://", page.text, re.IGNORECASE)
    links = _Links()
    links.feed(page.text)
    assert any(link.endswith("swagger-ui-bundle.js") for link in links.links)
    for link in links.links:
        resolved = urlsplit(urljoin("http://testserver/docs", link))
        assert resolved.netloc == "testserver", link
        assert resolved.path.startswith("/docs/assets/"), link
        assert (await client.get(resolved.path)).status_code == 200, link
    # The page loads the 3.1 document itself: the bundled Swagger UI (5.x) renders it.
    spec_url = re.search(r'"url": "([^"]+)"', page.text)
    assert spec_url is not None
    shown = await client.get(urlsplit(urljoin("http://testserver/docs", spec_url.group(1))).path)
    assert shown.status_code == 200
    assert shown.json()["paths"].keys() == doc["paths"].keys()
    assert shown.json()["openapi"] == "3.1.0"
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "connect-src 'self'" in policy


def test_the_bundled_swagger_ui_renders_openapi_3_1() -> None:
    script = (docs.assets() / "swagger-ui-bundle.js").read_bytes()
    version = re.search(rb'PACKAGE_VERSION:"([0-9]+)\.', script)

    assert version is not None
    assert int(version.group(1)) >= 5
