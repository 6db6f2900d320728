"""Every RPC with an HTTP rule is reachable through the gateway, and an RPC
the gateway has never seen is served from a new descriptor set alone."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from google.api import http_pb2

from gateway.descriptors import Contracts
from gateway.routes import Route, RouteTable
from kit import tls
from kit.settings import spiffe_id
from tests import harness
from tests.conftest import Stacks
from tests.integration.gateway.conftest import GatewayProcess, Rest, services, start_gateway
from tests.support.contracts import PACKAGE, SERVICE, widget_set

# Refusals the edge decides itself: a request answered with one of these
# never reached a service.
EDGE_REASONS = {
    "ROUTE_NOT_FOUND",
    "METHOD_NOT_ALLOWED",
    "MALFORMED_JSON",
    "UNKNOWN_FIELD",
    "INVALID_FIELD",
    "INVALID_QUERY_PARAMETER",
    "INVALID_PATH_PARAMETER",
    "UNSUPPORTED_MEDIA_TYPE",
    "TOKEN_MISSING",
    "RATE_LIMITED",
}


def sample_path(route: Route) -> str:
    """A concrete path for the route's template: each wildcard an id."""
    path = route.template.text
    for variable in route.template.variables:
        value = variable.pattern.replace("**", "x").replace("*", "x")
        path = re.sub(r"\{" + re.escape(".".join(variable.field_path)) + r"(=[^}]*)?\}", value, path)
    return path


def started_calls(metrics_url: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in httpx.get(metrics_url, timeout=5).text.splitlines():
        if line.startswith("grpc_server_started_total{"):
            method = re.search(r'grpc_method="([^"]+)"', line)
            service = re.search(r'grpc_service="([^"]+)"', line)
            if method and service:
                out[f"{service.group(1)}.{method.group(1)}"] = float(line.rsplit(" ", 1)[1])
    return out


def test_every_rpc_with_a_rule_is_reachable(rest: Rest, stacks: Stacks) -> None:
    table = RouteTable.load()
    for route in table.routes:
        url = sample_path(route)
        if route.streaming:
            with rest.http.stream(route.http_method, url, headers=rest.auth(), timeout=10) as reply:
                if reply.status_code != 200:
                    reply.read()
        else:
            body = {} if route.body else None
            reply = rest.http.request(route.http_method, url, json=body, headers=rest.auth())
        reason = reply.json()["details"][0]["reason"] if reply.status_code != 200 else ""
        assert reason not in EDGE_REASONS, f"{route}: {reply.status_code} {reason}"

    called: dict[str, float] = {}
    for process in services(stacks).values():
        called |= started_calls(f"http://127.0.0.1:{process.metrics_port}/metrics")
    missing = [str(r) for r in table.routes if called.get(r.method.full_name, 0) < 1]
    assert missing == []


class Widgets:
    """A service the gateway has never seen, serving the widget contract."""

    def __init__(self, tls_dir: Path) -> None:
        contracts = Contracts(self.descriptor_set())
        service = contracts.pool.FindServiceByName(f"{PACKAGE}.{SERVICE}")
        request = contracts.message_class(service.methods_by_name["GetWidget"].input_type)
        response = contracts.message_class(service.methods_by_name["GetWidget"].output_type)

        def get(message: Any, context: grpc.ServicerContext) -> Any:
            metadata = dict(context.invocation_metadata())
            return response(
                widget={"name": message.name, "color": "blue", "size": 7},
                echo=metadata.get("x-request-id", ""),
            )

        def paint(message: Any, context: grpc.ServicerContext) -> Any:
            message.widget.color = f"{message.widget.color}:{','.join(message.tags)}"
            return response(widget=message.widget)

        self.cancelled = threading.Event()

        def wait(message: Any, context: grpc.ServicerContext) -> Any:
            # Holds the call until the caller goes away (or 15 s pass).
            deadline = time.monotonic() + 15
            while context.is_active() and time.monotonic() < deadline:
                time.sleep(0.05)
            if not context.is_active():
                self.cancelled.set()
            return response()

        handler = grpc.method_handlers_generic_handler(
            f"{PACKAGE}.{SERVICE}",
            {
                name: grpc.unary_unary_rpc_method_handler(
                    fn,
                    request_deserializer=request.FromString,
                    response_serializer=lambda m: m.SerializeToString(),
                )
                for name, fn in (("GetWidget", get), ("PaintWidget", paint), ("WaitWidget", wait))
            },
        )
        identity = tls.issue(
            tls_dir, "svc-widget", spiffe_id(harness.TRUST_DOMAIN, harness.NAMESPACE, "svc-widget")
        )
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        self.server.add_generic_rpc_handlers((handler,))
        self.port = self.server.add_secure_port("127.0.0.1:0", tls.server_credentials(identity))
        self.server.start()

    @staticmethod
    def descriptor_set() -> Any:
        return widget_set(
            {
                "GetWidget": http_pb2.HttpRule(get="/v2/{name=widgets/*}"),
                "WaitWidget": http_pb2.HttpRule(get="/v2/{name=widgets/*}:wait"),
                "PaintWidget": http_pb2.HttpRule(
                    post="/v2/{widget.name=widgets/*}:paint", body="widget", response_body="widget"
                ),
            },
            public=("GetWidget", "PaintWidget", "WaitWidget"),
        )


@pytest.fixture
def widgets(stacks: Stacks) -> Iterator[Widgets]:
    served = Widgets(stacks.tls_dir)
    yield served
    served.cancelled.set()
    threading.Thread(target=served.server.stop, args=(1,)).start()


@pytest.fixture
def widget_gateway(stacks: Stacks, tmp_path: Path, widgets: Widgets) -> Iterator[GatewayProcess]:
    descriptors = tmp_path / "widget.binpb"
    descriptors.write_bytes(Widgets.descriptor_set().SerializeToString())
    gateway = start_gateway(
        stacks,
        tmp_path,
        env={"STOCKMESH_GATEWAY_DESCRIPTORS": str(descriptors)},
        peers={"widget": f"127.0.0.1:{widgets.port}"},
    )
    yield gateway
    gateway.stop()


def test_a_new_rpc_with_a_rule_is_served_with_no_gateway_change(widget_gateway: GatewayProcess) -> None:
    base = widget_gateway.base_url
    got = httpx.get(f"{base}/v2/widgets/w7", headers={"X-Request-Id": "req-7"})
    painted = httpx.post(f"{base}/v2/widgets/w7:paint?tags=a&tags=b", json={"color": "red", "size": "3"})
    unknown = httpx.get(f"{base}/v1/warehouses")  # not in this descriptor set

    assert got.status_code == 200, got.text
    assert got.json() == {
        "widget": {"name": "widgets/w7", "color": "blue", "size": "7", "etag": ""},
        "echo": "req-7",
    }
    assert painted.status_code == 200, painted.text
    # response_body: the widget alone; the repeated query key reached the request.
    assert painted.json() == {"name": "widgets/w7", "color": "red:a,b", "size": "3", "etag": ""}
    assert unknown.status_code == 404


def test_a_client_that_goes_away_cancels_its_grpc_call(
    widget_gateway: GatewayProcess, widgets: Widgets
) -> None:
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{widget_gateway.base_url}/v2/widgets/w1:wait", timeout=1.0)

    # The service sees the cancellation long before its own 15 s are up.
    assert widgets.cancelled.wait(5)
