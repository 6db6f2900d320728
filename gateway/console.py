"""The operator console at `/console`: the single-page app that `make console` builds with Vite
(`base: '/console/'`) from console/ into `STOCKMESH_CONSOLE_DIR` (default console/dist).

- `GET /console` and `GET /console/` answer `index.html` with `Cache-Control: no-cache`: it names the
  current build's assets, so a browser revalidates it on every load (ETag, 304).
- `GET /console/assets/<file>` answers the build's file with `Cache-Control: public, max-age=31536000,
  immutable`: Vite puts a content hash in each name, so a name never changes meaning. A file the build
  does not have is a 404 (`ASSET_NOT_FOUND`), never the page: a script URL answered with HTML would
  only fail later, in the browser, less clearly.
- Any other `/console/<path>` answers `index.html` too when its last segment has no dot
  (`/console/stock`, `/console/orders/o1`), so a reload or a shared link on a client-side route opens
  the app; one with a dot (`/console/robots.txt`) is a file the build does not have: 404.
- `HEAD` is answered as `GET` without the body; any other method is a 405 with `Allow: GET, HEAD`.

Every answer, errors included, carries a strict Content-Security-Policy (own-origin scripts, styles and
API calls only; no inline code, no frames), `X-Content-Type-Options: nosniff` and `Referrer-Policy:
no-referrer`. Errors are the gateway's JSON error shape (`gateway.errors`).

Without a build (no `index.html` in the directory) the gateway still starts, logs one warning, and
every console path answers 503 `CONSOLE_NOT_BUILT`. The directory is looked at on each request, so a
`make console` run while the gateway is up takes effect without a restart.

These routes sit beside `/docs` ahead of the route table, so, like the docs, they need no token and
take nothing from the rate limits: one page load fetches the page and several assets at once.
"""

from __future__ import annotations

import logging
import os
import stat
from email.utils import parsedate_to_datetime
from pathlib import Path

import anyio.to_thread
from google.rpc import code_pb2
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

from gateway import errors

log = logging.getLogger("gateway")

PREFIX = "/console"
ASSETS = "assets/"
METHODS = ("GET", "HEAD")
NO_CACHE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"
POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",  # the REST API and its event streams, on the same origin
        "manifest-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# Fixed here rather than guessed from the host's /etc/mime.types: under nosniff a browser refuses a
# script or a style sheet served with any other type.
MEDIA_TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".map": "application/json",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".txt": "text/plain",
}


def routes(directory: Path) -> list[BaseRoute]:
    """`/console` and everything under it, served from the build in `directory`."""
    console = _Console(directory)
    if not console.index.is_file():
        log.warning(
            f"the operator console is not built: /console answers 503 until `make console` "
            f"writes {console.index}"
        )
    # Every method reaches `serve`, so a refused one gets the gateway's JSON error, not Starlette's text.
    every = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    return [
        Route(PREFIX, console.serve, methods=every),
        Route(PREFIX + "/{path:path}", console.serve, methods=every),
    ]


class _Console:
    def __init__(self, directory: Path) -> None:
        self.index = directory / "index.html"
        self.assets = directory / "assets"

    async def serve(self, request: Request) -> Response:
        try:
            response = await self._answer(request)
        except errors.EdgeError as refused:
            response = Response(
                errors.body(refused.status),
                refused.http_status,
                {**dict(refused.headers), "Cache-Control": "no-store"},
                media_type="application/json",
            )
        response.headers.update(SECURITY_HEADERS)
        return response

    async def _answer(self, request: Request) -> Response:
        if request.method not in METHODS:
            raise errors.method_not_allowed(request.method, METHODS)
        # A blocking stat would hold up the event loop on a slow disk, as StaticFiles avoids too.
        path, found, cache = await anyio.to_thread.run_sync(
            self._find, str(request.path_params.get("path", ""))
        )
        response = FileResponse(
            path, headers={"Cache-Control": cache}, media_type=_media_type(path), stat_result=found
        )
        if _not_modified(request, response):
            kept = {
                k: v for k, v in response.headers.items() if k in ("cache-control", "etag", "last-modified")
            }
            return Response(status_code=304, headers=kept)
        return response

    def _find(self, path: str) -> tuple[Path, os.stat_result, str]:
        """The file that answers `/console/<path>`, its stat and its Cache-Control."""
        try:
            index = self.index.stat()
        except OSError:
            raise errors.EdgeError(
                503,
                code_pb2.UNAVAILABLE,
                f"the operator console is not built: run `make console` (it writes {self.index})",
                "CONSOLE_NOT_BUILT",
            ) from None
        if path.startswith(ASSETS):
            asset = _inside(self.assets, path.removeprefix(ASSETS))
            if asset is not None:
                return asset[0], asset[1], IMMUTABLE
        elif "." not in path.rsplit("/", 1)[-1]:
            return self.index, index, NO_CACHE
        raise errors.EdgeError(
            404, code_pb2.NOT_FOUND, f"the console has no file {PREFIX}/{path}", "ASSET_NOT_FOUND"
        )


def _inside(directory: Path, relative: str) -> tuple[Path, os.stat_result] | None:
    """The regular file at `relative` under `directory`, never one outside it (`..`, symlinks)."""
    try:
        root = directory.resolve(strict=True)
        candidate = (root / relative).resolve(strict=True)
        found = candidate.stat()
    except (OSError, RuntimeError, ValueError):  # missing, unreadable, a symlink loop, a NUL in the name
        return None
    if not candidate.is_relative_to(root) or not stat.S_ISREG(found.st_mode):
        return None
    return candidate, found


def _media_type(path: Path) -> str:
    return MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")


def _not_modified(request: Request, response: FileResponse) -> bool:
    """Whether the client's copy is current (If-None-Match, else If-Modified-Since), as RFC 9110 orders."""
    if tags := request.headers.get("if-none-match"):
        etag = response.headers["etag"]
        return tags.strip() == "*" or etag in [tag.strip().removeprefix("W/") for tag in tags.split(",")]
    since = request.headers.get("if-modified-since")
    if not since:
        return False
    try:
        return parsedate_to_datetime(since) >= parsedate_to_datetime(response.headers["last-modified"])
    except (TypeError, ValueError):
        return False
