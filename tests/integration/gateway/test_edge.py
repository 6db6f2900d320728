"""What the edge adds around each call: one trace from the caller through the
gateway into the services, metrics by route template, JSON access logs,
rate limits with their headers, CORS for configured origins."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Stacks
from tests.integration.gateway.conftest import GatewayProcess, Rest, services, start_gateway

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


def spans(path: Path, trace_id: str) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    found = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [s for s in found if s["context"]["trace_id"] == f"0x{trace_id}"]


def wait_for(condition: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    return condition()


def test_one_trace_follows_a_request_from_the_caller_through_the_gateway_into_the_service(
    rest: Rest, gateway: GatewayProcess, stacks: Stacks
) -> None:
    reply = rest.get("/v1/warehouses", headers={"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"})
    assert reply.status_code == 200

    rpc = "/stockmesh.stock.v1.WarehouseService/ListWarehouses"
    edge = wait_for(
        lambda: [s for s in spans(gateway.traces_path, TRACE_ID) if s["kind"] == "SpanKind.SERVER"]
    )
    stock = services(stacks)["stock"]
    inner = wait_for(
        lambda: [
            s
            for s in spans(stock.traces_path, TRACE_ID)
            if s["kind"] == "SpanKind.SERVER" and s["name"] == rpc
        ]
    )
    assert len(edge) == 1
    assert edge[0]["parent_id"] == f"0x{PARENT_ID}"  # continues the caller's trace
    assert edge[0]["name"] == "GET /v1/warehouses"
    assert edge[0]["attributes"]["http.route"] == "/v1/warehouses"
    outgoing = [
        s for s in spans(gateway.traces_path, TRACE_ID) if s["kind"] == "SpanKind.CLIENT" and s["name"] == rpc
    ]
    assert [s["parent_id"] for s in outgoing] == [edge[0]["context"]["span_id"]]
    assert [s["parent_id"] for s in inner] == [outgoing[0]["context"]["span_id"]]


def test_metrics_are_labelled_by_route_template_and_status_never_by_raw_path(
    rest: Rest, gateway: GatewayProcess
) -> None:
    rest.get("/v1/warehouses/one-id")
    rest.get("/v1/warehouses/another-id")
    rest.get("/v1/not/a/route")

    text = httpx.get(f"http://127.0.0.1:{gateway.metrics_port}/metrics", timeout=5).text
    lines = [line for line in text.splitlines() if line.startswith("http_server_requests_total{")]
    assert any('route="/v1/{name=warehouses/*}"' in line and 'status="404"' in line for line in lines)
    assert any('route="unmatched"' in line for line in lines)
    assert not any("one-id" in line or "another-id" in line or "not/a/route" in line for line in lines)


def test_each_request_writes_one_json_access_line_with_request_and_trace_ids(
    rest: Rest, gateway: GatewayProcess
) -> None:
    request_id = f"log-{uuid.uuid4().hex}"
    rest.get("/v1/warehouses", headers={"X-Request-Id": request_id})

    def line() -> dict[str, Any] | None:
        for raw in gateway.log_path.read_text().splitlines():
            if request_id in raw and '"gateway.access"' in raw:
                found: dict[str, Any] = json.loads(raw)
                return found
        return None

    logged = wait_for(line)
    assert logged["request_id"] == request_id
    assert len(logged["trace_id"]) == 32
    assert (logged["method"], logged["route"], logged["status"]) == ("GET", "/v1/warehouses", 200)


@pytest.fixture
def strict_gateway(stacks: Stacks, tmp_path: Path) -> Iterator[GatewayProcess]:
    gateway = start_gateway(
        stacks,
        tmp_path,
        env={
            "STOCKMESH_GATEWAY_RATE_PER_ADDRESS": "0.5",
            "STOCKMESH_GATEWAY_BURST_PER_ADDRESS": "3",
            "STOCKMESH_GATEWAY_CORS_ORIGINS": "https://console.example.test",
        },
    )
    yield gateway
    gateway.stop()


def test_past_the_burst_a_caller_gets_429_with_retry_after_and_ratelimit_headers(
    strict_gateway: GatewayProcess,
) -> None:
    replies = [httpx.get(f"{strict_gateway.base_url}/v1/jwks", timeout=10) for _ in range(5)]

    assert [r.status_code for r in replies] == [200, 200, 200, 429, 429]
    refused = replies[3]
    assert refused.json()["details"][0]["reason"] == "RATE_LIMITED"
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["ratelimit-policy"] == '"address";q=3;w=6'
    assert refused.headers["ratelimit"].startswith('"address";r=0;t=')


def test_cors_answers_preflights_for_configured_origins_only(strict_gateway: GatewayProcess) -> None:
    def preflight(origin: str) -> httpx.Response:
        return httpx.options(
            f"{strict_gateway.base_url}/v1/warehouses",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
            },
            timeout=10,
        )

    allowed = preflight("https://console.example.test")
    other = preflight("https://evil.example.test")

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://console.example.test"
    assert other.status_code == 400
    assert "access-control-allow-origin" not in other.headers


def test_refused_tokens_spend_their_address_bucket_too(strict_gateway: GatewayProcess) -> None:
    forged = {"Authorization": "Bearer not-a-token"}
    replies = [
        httpx.get(f"{strict_gateway.base_url}/v1/warehouses", headers=forged, timeout=10) for _ in range(5)
    ]

    assert [r.status_code for r in replies] == [401, 401, 401, 429, 429]
