"""ci/smoke runs against either edge because it sends each mutation's request_id where the
contract reads it, not only as the REST gateway's Idempotency-Key header (which Envoy's
transcoder ignores): in the body of a custom method, whose body is the whole request, and in
the query of a create, whose body is the resource. The rule it follows is the contracts' own."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
from types import ModuleType
from urllib.parse import parse_qs

import httpx
import pytest

from gateway import routes
from tests.harness import ROOT


def smoke_module() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("stockmesh_smoke", str(ROOT / "ci" / "smoke"))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_every_custom_method_takes_the_whole_request_and_every_create_the_resource() -> None:
    broken = [
        f"POST {r.template.text} body={r.body!r}"
        for r in routes.load()
        if r.http_method == "POST" and (r.body == "*") != (":" in r.template.text.rsplit("/", 1)[-1])
    ]
    assert not broken, "ci/smoke's placement of requestId would be wrong for:\n" + "\n".join(broken)


@pytest.mark.parametrize(
    ("path", "body", "in_body"),
    [
        ("/v1/purchaseOrders/PO-1:submit", {}, True),
        ("/v1/orders/SO-1:ship", {"carrier": "X"}, True),
        ("/v1/auth:login", {"tenant": "acme"}, True),
        ("/v1/orders", {"warehouse": "warehouses/W1"}, False),
        ("/v1/products", {"displayName": "P"}, False),
    ],
)
def test_the_probe_sends_the_request_id_where_the_contract_reads_it(
    path: str, body: dict[str, str], in_body: bool
) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    probe = smoke_module().Probe("http://edge.test", timeout=5.0)
    probe.client = httpx.Client(base_url="http://edge.test", transport=httpx.MockTransport(answer))
    probe.call("POST", path, body)

    (request,) = seen
    key = request.headers["Idempotency-Key"]
    sent_body = json.loads(request.content)
    query = parse_qs(request.url.query.decode())
    if in_body:
        assert sent_body == {**body, "requestId": key}
        assert "requestId" not in query
    else:
        assert sent_body == body
        assert query["requestId"] == [key]
