"""Each service, as a real process over mTLS, refuses a calling workload its
AuthorizationPolicy in mesh/istio does not allow, before anything else is
looked at, and logs both identities; the edges the policy allows reach the
service's own rules. Editing a copy of the policy flips the outcome."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import grpc
import pytest

from kit import auth
from stockmesh.catalog.v1 import catalog_pb2
from stockmesh.stock.v1 import stock_pb2
from stockmesh.user.v1 import user_pb2
from tests import harness
from tests.conftest import Stacks
from tests.integration.stock.conftest import stock_stack
from tests.support.mesh_policy import Document, call_as, edited_policy, of_kind

BACKEND = "sqlite"
DENIED = (grpc.StatusCode.PERMISSION_DENIED, "MESH_POLICY_DENIED")
STOCK = "/stockmesh.stock.v1"
RESERVE = f"{STOCK}.ReservationService/CreateReservation"
RECEIVE = f"{STOCK}.StockService/ReceiveStock"
SYSTEM_WORK = [(auth.TENANT_HEADER, "tenant-of-nobody")]


def reservation() -> stock_pb2.CreateReservationRequest:
    return stock_pb2.CreateReservationRequest(
        request_id="r-1",
        reservation=stock_pb2.Reservation(
            reference="order-1",
            lines=[stock_pb2.ReservationLine(sku="SKU-1", warehouse="warehouses/w", quantity=1)],
        ),
    )


def receipt() -> stock_pb2.ReceiveStockRequest:
    return stock_pb2.ReceiveStockRequest(
        request_id="r-2", warehouse="warehouses/none", lines=[stock_pb2.StockLine(sku="SKU-1", quantity=1)]
    )


def spiffe(account: str) -> str:
    return f"spiffe://{harness.TRUST_DOMAIN}/ns/{harness.NAMESPACE}/sa/{account}"


@pytest.fixture(scope="module")
def stock(stacks: Stacks) -> harness.ServiceProcess:
    return stock_stack(stacks, BACKEND)


def test_allowed_edges_reach_the_services_own_rules(stacks: Stacks, stock: harness.ServiceProcess) -> None:
    user = stacks.user(BACKEND)
    catalog = stacks.service("catalog", BACKEND)
    lookup = catalog_pb2.BatchGetVariantsRequest(skus=["SKU-1"])

    # Answered: JWKS for every service, lookups for the callers of the catalog.
    for account in ("svc-catalog", "svc-stock", "svc-procure", "svc-order"):
        assert (
            call_as(
                user,
                account,
                "/stockmesh.user.v1.AuthService/GetJwks",
                user_pb2.GetJwksRequest(),
                user_pb2.GetJwksResponse,
            )[0]
            == grpc.StatusCode.OK
        )
    for account in ("svc-stock", "svc-procure", "svc-order"):
        path = "/stockmesh.catalog.v1.CatalogService/BatchGetVariants"
        assert (
            call_as(catalog, account, path, lookup, catalog_pb2.BatchGetVariantsResponse, SYSTEM_WORK)[0]
            == grpc.StatusCode.OK
        )
    # Past the mesh, svc_stock's own rules decide: a reservation needs a
    # user's token; a receipt for a warehouse that does not exist is refused.
    assert call_as(stock, "svc-order", RESERVE, reservation(), stock_pb2.CreateReservationResponse) == (
        grpc.StatusCode.UNAUTHENTICATED,
        "TOKEN_MISSING",
    )
    assert (
        call_as(stock, "svc-procure", RECEIVE, receipt(), stock_pb2.ReceiveStockResponse, SYSTEM_WORK)[1]
        != DENIED[1]
    )


@pytest.mark.parametrize(
    ("caller", "service", "path", "request_of"),
    [
        ("svc-catalog", "stock", RESERVE, reservation),
        ("svc-procure", "stock", RESERVE, reservation),
        ("svc-order", "stock", RECEIVE, receipt),
        ("svc-stock", "user", "/stockmesh.user.v1.UserService/CreateUser", user_pb2.CreateUserRequest),
        (
            "svc-user",
            "catalog",
            "/stockmesh.catalog.v1.CatalogService/BatchGetVariants",
            catalog_pb2.BatchGetVariantsRequest,
        ),
    ],
)
def test_every_other_edge_is_refused_and_logged_with_both_identities(
    stacks: Stacks, stock: harness.ServiceProcess, caller: str, service: str, path: str, request_of: Any
) -> None:
    callee = stock if service == "stock" else stacks.service(service, BACKEND)
    request = request_of()
    response = type(request)  # the response is never read: the call is refused

    assert call_as(callee, caller, path, request, response, SYSTEM_WORK) == DENIED
    logged = [json.loads(line) for line in callee.log_path.read_text().splitlines() if line.startswith("{")]
    refusals = {
        (r["caller"], r["callee"], r["method"])
        for r in logged
        if r["message"] == "mesh policy refused a call"
    }
    assert (spiffe(caller), spiffe(callee.account), path) in refusals


def test_editing_a_copy_of_the_policy_flips_the_outcome(stacks: Stacks, tmp_path: Path) -> None:
    def catalog_reserves_and_procure_receives_nothing(documents: list[Document]) -> None:
        rules = of_kind(documents, "AuthorizationPolicy")["spec"]["rules"]
        for rule in rules:
            principals = [p for r in rule.get("from", []) for p in r["source"].get("principals", [])]
            if principals == ["cluster.local/ns/stockmesh/sa/svc-order"]:
                rule["from"][0]["source"]["principals"].append("cluster.local/ns/stockmesh/sa/svc-catalog")
        rules[:] = [
            r for r in rules if "cluster.local/ns/stockmesh/sa/svc-procure" not in str(r.get("from", ""))
        ]

    policy = edited_policy(tmp_path, "services/svc-stock.yaml", catalog_reserves_and_procure_receives_nothing)
    edited = stock_stack(stacks, BACKEND, variant="-edited-policy", STOCKMESH_MESH_DIR=str(policy))

    assert call_as(edited, "svc-catalog", RESERVE, reservation(), stock_pb2.CreateReservationResponse) == (
        grpc.StatusCode.UNAUTHENTICATED,
        "TOKEN_MISSING",
    )
    assert (
        call_as(edited, "svc-procure", RECEIVE, receipt(), stock_pb2.ReceiveStockResponse, SYSTEM_WORK)
        == DENIED
    )


def test_a_policy_the_runtime_cannot_enforce_stops_the_service_from_starting(
    stacks: Stacks, tmp_path: Path
) -> None:
    def conditional(documents: list[Document]) -> None:
        rule = of_kind(documents, "AuthorizationPolicy")["spec"]["rules"][0]
        rule["when"] = [{"key": "request.headers[x-debug]", "values": ["1"]}]

    policy = edited_policy(tmp_path, "services/svc-user.yaml", conditional)
    service = harness.ServiceProcess(
        "user",
        tmp_path,
        stacks.tls_dir,
        f"sqlite:///{tmp_path / 'user.db'}",
        env={"STOCKMESH_MESH_DIR": str(policy)},
    )

    with pytest.raises(RuntimeError, match="did not start"):
        service.start()
    assert service.process is not None
    assert service.process.wait(timeout=10) == 2
    refused = (
        "svc-user.yaml#0 AuthorizationPolicy svc-user: rules[0]: the local runtime does not enforce when"
    )
    assert refused in service.log_tail()
