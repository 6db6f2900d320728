"""The API's docs with no network: `/openapi.json` and a Swagger UI page at `/docs` whose scripts and
styles come from an installed package and are served under `/docs/assets`, never from a CDN.

The assets come from `openapi-ui-bundles` (Swagger UI 5.17, Apache-2.0, no dependencies): Swagger UI
renders OpenAPI 3.1 from version 5 on, and `swagger-ui-bundle` on PyPI still ships 4.15, which refuses
a 3.1 document.
"""

from __future__ import annotations

import base64
import hashlib
import html
import importlib.resources
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

ASSETS = "/docs/assets"


def assets() -> Path:
    """Swagger UI's dist files, as the installed bundle ships them."""
    return Path(str(importlib.resources.files("openapi_ui_bundles"))) / "swagger_ui" / "vendor"


def routes(document: dict[str, Any]) -> list[BaseRoute]:
    """`GET /openapi.json`, `GET /docs` and the Swagger UI assets under `/docs/assets`."""
    page, policy = _page(document, "openapi.json")
    headers = {"Content-Security-Policy": policy, "Cache-Control": "no-cache"}
    return [
        Route("/openapi.json", _constant(_json(document), "application/json"), methods=["GET"]),
        Route("/docs", _constant(page, "text/html; charset=utf-8", headers), methods=["GET"]),
        Mount(ASSETS, app=StaticFiles(directory=assets()), name="docs-assets"),
    ]


def _json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def _constant(
    body: bytes, media_type: str, headers: dict[str, str] | None = None
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return Response(body, media_type=media_type, headers=headers)

    return endpoint


def _page(document: dict[str, Any], spec_url: str) -> tuple[bytes, str]:
    """The page and its Content-Security-Policy. Paths are relative to `/docs`, so the page also works
    behind a proxy that serves the gateway under a prefix."""
    config = {
        "url": spec_url,
        "dom_id": "#swagger-ui",
        "deepLinking": True,
        "displayRequestDuration": True,
        # Swagger UI would otherwise send the document to an online validator for a badge.
        "validatorUrl": None,
    }
    # '</' inside a script element would end it early.
    script = "window.ui = SwaggerUIBundle(" + json.dumps(config).replace("</", "<\\/") + ");"
    title = html.escape(str(document.get("info", {}).get("title", "API")))
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} API</title>
<link rel="stylesheet" href="docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="docs/assets/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/assets/swagger-ui-bundle.js"></script>
<script>{script}</script>
</body>
</html>
"""
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    # "Try it out" calls the API: the page's own origin, or the servers the document names.
    servers = sorted(
        {
            f"{parts.scheme}://{parts.netloc}"
            for server in document.get("servers", ())
            if (parts := urlsplit(str(server.get("url", "")))).scheme in ("http", "https") and parts.netloc
        }
    )
    policy = "; ".join(
        (
            "default-src 'none'",
            f"script-src 'self' 'sha256-{digest}'",
            "style-src 'self' 'unsafe-inline'",  # Swagger UI sets style attributes
            "img-src 'self' data:",
            "font-src 'self'",
            " ".join(("connect-src 'self'", *servers)),
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'self'",
        )
    )
    return page.encode(), policy
