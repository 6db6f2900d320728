"""The gateway serves the operator console's build at /console: the page revalidated on every load,
hashed assets cached for a year, every answer under a strict Content-Security-Policy; without a build
it still starts and says how to make one. No token, no rate limit: a page load is several requests."""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.settings import GatewaySettings
from kit import services
from tests import harness
from tests.integration.gateway.conftest import GatewayProcess

POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
IMMUTABLE = "public, max-age=31536000, immutable"
PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>stockmesh console</title>
<script type="module" crossorigin src="/console/assets/app-abc123.js"></script>
<link rel="stylesheet" crossorigin href="/console/assets/app-abc123.css">
</head><body><div id="app"></div></body></html>
"""
# Large enough for the gateway's gzip (1 KiB and up).
SCRIPT = "export const rows = [" + ", ".join(f'"sku-{n}"' for n in range(400)) + "];\n"
STYLE = "body { margin: 0; }\n"


def gateway_process(home: Path, tls_dir: Path, env: dict[str, str]) -> GatewayProcess:
    """`python -m gateway` with no service behind it (nobody listens at its peers' addresses),
    so it never reaches a `stockmesh up` that may be running on the default ports."""
    nowhere = {name: f"127.0.0.1:{harness.free_port()}" for name in services.available()}
    return GatewayProcess(home, tls_dir, nowhere, env=env)


def build(directory: Path) -> Path:
    """What `make console` writes: index.html and content-hashed files under assets/."""
    (directory / "assets").mkdir(parents=True)
    (directory / "index.html").write_text(PAGE)
    (directory / "assets" / "app-abc123.js").write_text(SCRIPT)
    (directory / "assets" / "app-abc123.css").write_text(STYLE)
    return directory


def reason(response: httpx.Response) -> str:
    body: dict[str, Any] = response.json()
    return str(next(d["reason"] for d in body["details"] if d["@type"].endswith("ErrorInfo")))


def assert_strict(response: httpx.Response) -> None:
    assert response.headers["content-security-policy"] == POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


async def client_of(directory: Path) -> httpx.AsyncClient:
    # The console's routes need neither the services nor the app's lifespan: built from the
    # descriptors alone, the app answers them in-process.
    app = create_app(GatewaySettings.from_env({"STOCKMESH_CONSOLE_DIR": str(directory)}))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with await client_of(build(tmp_path / "dist")) as client:
        yield client


@pytest.mark.parametrize("path", ["/console", "/console/"])
async def test_the_page_is_revalidated_on_every_load_under_a_strict_policy(
    console: httpx.AsyncClient, path: str
) -> None:
    page = await console.get(path)

    assert page.status_code == 200
    assert page.text == PAGE
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["cache-control"] == "no-cache"
    assert_strict(page)


async def test_an_unchanged_page_is_answered_304_without_the_body(console: httpx.AsyncClient) -> None:
    first = await console.get("/console/")

    again = await console.get("/console/", headers={"If-None-Match": first.headers["etag"]})

    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    assert_strict(again)


@pytest.mark.parametrize("path", ["/console/stock", "/console/orders/o-17/lines"])
async def test_a_client_side_route_opens_the_page(console: httpx.AsyncClient, path: str) -> None:
    page = await console.get(path)

    assert page.status_code == 200
    assert page.text == PAGE
    assert page.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize(
    ("name", "media_types", "body"),
    [
        ("app-abc123.js", ("text/javascript", "application/javascript"), SCRIPT),
        ("app-abc123.css", ("text/css",), STYLE),
    ],
)
async def test_a_hashed_asset_is_cached_for_a_year_as_immutable_with_its_type(
    console: httpx.AsyncClient, name: str, media_types: tuple[str, ...], body: str
) -> None:
    asset = await console.get(f"/console/assets/{name}")

    assert asset.status_code == 200
    assert asset.text == body
    assert asset.headers["cache-control"] == IMMUTABLE
    assert asset.headers["content-type"].split(";")[0] in media_types
    assert_strict(asset)


async def test_a_script_is_sent_gzipped_to_a_browser_that_accepts_it(console: httpx.AsyncClient) -> None:
    gzipped = {"Accept-Encoding": "gzip"}
    async with console.stream("GET", "/console/assets/app-abc123.js", headers=gzipped) as asset:
        raw = b"".join([chunk async for chunk in asset.aiter_raw()])

    assert asset.headers["content-encoding"] == "gzip"
    assert len(raw) < len(SCRIPT)
    assert gzip.decompress(raw).decode() == SCRIPT


async def test_head_answers_the_headers_of_get_without_the_body(console: httpx.AsyncClient) -> None:
    plain = {"Accept-Encoding": "identity"}
    for path in ("/console", "/console/assets/app-abc123.js"):
        got, head = await console.get(path, headers=plain), await console.head(path, headers=plain)

        assert head.status_code == 200
        assert head.content == b""
        assert head.headers["content-length"] == got.headers["content-length"]
        assert head.headers["cache-control"] == got.headers["cache-control"]
        assert_strict(head)


@pytest.mark.parametrize(
    "path",
    [
        "/console/assets/app-gone99.js",  # an older build's script: never answered with the page
        "/console/robots.txt",  # a file name outside assets/
        "/console/assets/..%2Findex.html",  # out of assets/ by a decoded '..'
        "/console/assets/app%00.js",  # a name no file system has
        "/console/assets/",
    ],
)
async def test_a_file_the_build_does_not_have_is_a_json_404(console: httpx.AsyncClient, path: str) -> None:
    missing = await console.get(path)

    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/json"
    assert reason(missing) == "ASSET_NOT_FOUND"
    assert_strict(missing)


async def test_only_get_and_head_are_allowed(console: httpx.AsyncClient) -> None:
    refused = await console.post("/console/", content=b"{}")

    assert refused.status_code == 405
    assert refused.headers["allow"] == "GET, HEAD"
    assert reason(refused) == "METHOD_NOT_ALLOWED"
    assert_strict(refused)


async def test_without_a_build_the_console_answers_503_saying_to_run_make_console(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="gateway"):
        client = await client_of(tmp_path / "never-built")
    warned = [r for r in caplog.records if r.levelno == logging.WARNING and "console" in r.getMessage()]

    async with client:
        for path in ("/console", "/console/stock", "/console/assets/app-abc123.js"):
            refused = await client.get(path)

            assert refused.status_code == 503, path
            assert reason(refused) == "CONSOLE_NOT_BUILT"
            assert "make console" in refused.json()["message"]
            assert_strict(refused)
        assert (await client.get("/healthz")).status_code == 200
    assert len(warned) == 1


async def test_a_build_made_while_the_gateway_runs_is_served_without_a_restart(tmp_path: Path) -> None:
    async with await client_of(tmp_path / "dist") as client:
        assert (await client.get("/console")).status_code == 503

        build(tmp_path / "dist")

        assert (await client.get("/console")).status_code == 200
        assert (await client.get("/console/assets/app-abc123.js")).status_code == 200


def test_by_default_the_build_is_console_dist_of_the_repository() -> None:
    repository = Path(__file__).resolve().parents[3]

    assert GatewaySettings.from_env({}).console_dir == repository / "console" / "dist"


def test_the_gateway_process_starts_without_a_build_and_warns_once(tmp_path: Path, tls_dir: Path) -> None:
    gateway = gateway_process(tmp_path, tls_dir, {"STOCKMESH_CONSOLE_DIR": str(tmp_path / "none")})
    try:
        gateway.start()
        refused = httpx.get(f"{gateway.base_url}/console", timeout=5.0)
    finally:
        gateway.stop()

    assert refused.status_code == 503
    assert reason(refused) == "CONSOLE_NOT_BUILT"
    logged = [json.loads(line) for line in gateway.log_path.read_text().splitlines() if line.startswith("{")]
    warnings = [line for line in logged if line["level"] == "warning" and "console" in line["message"]]
    assert len(warnings) == 1, warnings


def test_a_page_load_needs_no_token_and_takes_nothing_from_the_rate_limit(
    tmp_path: Path, tls_dir: Path
) -> None:
    # One request per ten seconds per address, two at once: a page load is more than that.
    limits = {"STOCKMESH_GATEWAY_RATE_PER_ADDRESS": "0.1", "STOCKMESH_GATEWAY_BURST_PER_ADDRESS": "2"}
    console = {"STOCKMESH_CONSOLE_DIR": str(build(tmp_path / "dist"))}
    gateway = gateway_process(tmp_path, tls_dir, limits | console)
    try:
        gateway.start()
        with httpx.Client(base_url=gateway.base_url, timeout=5.0) as http:
            loads = [
                http.get(path)
                for _ in range(3)
                for path in ("/console/", "/console/assets/app-abc123.js", "/console/assets/app-abc123.css")
            ]
            api = [http.get("/v1/warehouses") for _ in range(3)]
    finally:
        gateway.stop()

    assert [r.status_code for r in loads] == [200] * len(loads)
    assert not any("ratelimit" in r.headers for r in loads)
    # The same address is limited on the API all the while: the console took none of its tokens.
    assert [r.status_code for r in api] == [401, 401, 429]
