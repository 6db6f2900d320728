"""The API's docs with no network: `/openapi.json` and a Swagger UI page at `/docs` whose scripts and
styles come from an installed package and are served under `/docs/assets`, never from a CDN.

Swagger UI renders OpenAPI 3.1 from version 5 on. The `swagger-ui-bundle` package (1.1.0) ships Swagger
UI 4.15.5, which refuses a 3.1 document outright, so while only that bundle is installed the page loads
`/docs/openapi-3.0.json`, the same document restated in OpenAPI 3.0 for display; `/openapi.json` stays
the 3.1 document. An installed bundle of Swagger UI 5 or later (`openapi-ui-bundles` 0.3.0 ships 5.17.14)
is preferred, and the page then loads `/openapi.json` itself.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import html
import importlib.resources
import importlib.util
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

ASSETS = "/docs/assets"
# Packages that ship Swagger UI's dist files, and where: the first that renders OpenAPI 3.1 wins.
_BUNDLES = (("openapi_ui_bundles", "swagger_ui/vendor"), ("swagger_ui_bundle", "vendor/swagger-ui-*"))
_VERSION = re.compile(rb'PACKAGE_VERSION:"([0-9]+)\.([0-9]+)\.([0-9]+)"')
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_ONE = ("items", "not", "additionalProperties", "contains", "if", "then", "else")


@dataclass(frozen=True)
class SwaggerUi:
    """An installed copy of Swagger UI's dist files."""

    directory: Path
    version: tuple[int, int, int]

    @property
    def renders_31(self) -> bool:
        return self.version >= (5, 0, 0)


def swagger_ui() -> SwaggerUi:
    """The installed Swagger UI to serve: the first bundle that renders OpenAPI 3.1, else any found."""
    found = [ui for ui in map(_bundle, _BUNDLES) if ui is not None]
    if not found:
        raise RuntimeError("no Swagger UI assets installed: install swagger-ui-bundle")
    return next((ui for ui in found if ui.renders_31), found[0])


def routes(document: dict[str, Any], ui: SwaggerUi | None = None) -> list[BaseRoute]:
    """`GET /openapi.json`, `GET /docs` (and the 3.0 rendition the page reads when the installed Swagger UI
    predates 3.1) and the Swagger UI assets under `/docs/assets`."""
    ui = ui or swagger_ui()
    served = _json(document)
    shown = "openapi.json"
    found: list[BaseRoute] = [Route("/openapi.json", _constant(served, "application/json"), methods=["GET"])]
    if not ui.renders_31:
        shown = "docs/openapi-3.0.json"
        rendition = _json(as_openapi_30(document))
        found.append(
            Route("/docs/openapi-3.0.json", _constant(rendition, "application/json"), methods=["GET"])
        )
    page, policy = _page(document, shown)
    headers = {"Content-Security-Policy": policy, "Cache-Control": "no-cache"}
    found += [
        Route("/docs", _constant(page, "text/html; charset=utf-8", headers), methods=["GET"]),
        Mount(ASSETS, app=StaticFiles(directory=ui.directory), name="docs-assets"),
    ]
    return found


def as_openapi_30(document: dict[str, Any]) -> dict[str, Any]:
    """The document in OpenAPI 3.0.3 for Swagger UI 4: `type` lists become a type and `nullable`, `const`
    a one-value `enum`, `contentEncoding` the `byte` format, a `$ref` with siblings an `allOf` (3.0 ignores
    siblings of `$ref`); keywords 3.0 lacks are dropped."""
    doc = copy.deepcopy(document)
    doc["openapi"] = "3.0.3"
    components = doc.get("components", {})
    components["schemas"] = {
        name: _schema_30(schema) for name, schema in components.get("schemas", {}).items()
    }
    for holder in [*components.get("parameters", {}).values(), *components.get("headers", {}).values()]:
        _holder_30(holder)
    for response in components.get("responses", {}).values():
        _holder_30(response)
    for item in doc.get("paths", {}).values():
        for operation in item.values():
            for holder in [*operation.get("parameters", ()), operation.get("requestBody", {})]:
                _holder_30(holder)
            for response in operation.get("responses", {}).values():
                _holder_30(response)
    return doc


def _holder_30(holder: dict[str, Any]) -> None:
    """Rewrites the schemas held by a parameter, header, request body or response."""
    if "schema" in holder:
        holder["schema"] = _schema_30(holder["schema"])
    for media in holder.get("content", {}).values():
        _holder_30(media)
    for header in holder.get("headers", {}).values():
        _holder_30(header)


def _schema_30(schema: Any) -> Any:
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _SCHEMA_MAPS:
            out[key] = {name: _schema_30(inner) for name, inner in value.items()}
        elif key in _SCHEMA_LISTS:
            out[key] = [_schema_30(inner) for inner in value]
        elif key in _SCHEMA_ONE:
            out[key] = _schema_30(value)
        elif key == "const":
            out["enum"] = [value]
        elif key == "contentEncoding":
            out["format"] = "byte"
        elif key != "propertyNames":
            out[key] = value
    if isinstance(out.get("type"), list):
        types = [kind for kind in out["type"] if kind != "null"]
        if len(types) < len(out["type"]):
            out["nullable"] = True
        out["type"] = types[0]
        if types[0] != "string":
            out.pop("pattern", None)  # the pattern was for the string spellings of the other type
    if "$ref" in out and len(out) > 1:
        return {"allOf": [{"$ref": out.pop("$ref")}], **out}
    return out


def _bundle(candidate: tuple[str, str]) -> SwaggerUi | None:
    package, where = candidate
    if importlib.util.find_spec(package) is None:
        return None
    root = Path(str(importlib.resources.files(package)))
    for directory in sorted(root.glob(where)):
        script = directory / "swagger-ui-bundle.js"
        if script.is_file():
            found = _VERSION.search(script.read_bytes())
            if found is not None:
                major, minor, patch = (int(part) for part in found.groups())
                return SwaggerUi(directory, (major, minor, patch))
    return None


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
