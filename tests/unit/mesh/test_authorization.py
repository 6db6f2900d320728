"""AuthorizationPolicy decided as Istio decides it, from the repository's own
files and from small samples of each rule form."""

from __future__ import annotations

from typing import Any

import pytest

from kit.mesh import authz, files
from kit.mesh.files import PolicyError, Resource

DOMAIN = "stockmesh.local"
STOCK = "/stockmesh.stock.v1"
RESERVE = f"{STOCK}.ReservationService/CreateReservation"


def spiffe(account: str, namespace: str = "stockmesh", domain: str = DOMAIN) -> str:
    return f"spiffe://{domain}/ns/{namespace}/sa/{account}"


def workload(app: str, found: list[authz.Policy] | None = None) -> authz.Authorizer:
    policies = found if found is not None else authz.policies(files.read(files.DEFAULT_DIR))
    return authz.Authorizer(
        policies, namespace="stockmesh", labels={"app": app, "version": "v1"}, trust_domain=DOMAIN
    )


@pytest.mark.parametrize(
    ("caller", "callee", "path"),
    [
        ("svc-order", "svc-stock", RESERVE),
        ("svc-order", "svc-stock", f"{STOCK}.StockService/ReturnStock"),
        ("svc-procure", "svc-stock", f"{STOCK}.StockService/ReceiveStock"),
        ("svc-stock", "svc-catalog", "/stockmesh.catalog.v1.CatalogService/BatchGetVariants"),
        ("svc-catalog", "svc-user", "/stockmesh.user.v1.AuthService/GetJwks"),
        ("gateway", "svc-stock", f"{STOCK}.StockService/AdjustStock"),
        ("dev-client", "svc-order", "/stockmesh.order.v1.OrderService/CreateOrder"),
    ],
)
def test_the_policy_allows_each_edge_a_service_needs(caller: str, callee: str, path: str) -> None:
    assert workload(callee).decide(spiffe(caller), path).allowed


@pytest.mark.parametrize(
    ("caller", "callee", "path"),
    [
        ("svc-catalog", "svc-stock", RESERVE),
        ("svc-procure", "svc-stock", RESERVE),
        ("svc-order", "svc-stock", f"{STOCK}.StockService/AdjustStock"),
        ("svc-order", "svc-user", "/stockmesh.user.v1.UserService/CreateUser"),
        ("svc-stock", "svc-order", "/stockmesh.order.v1.OrderService/CreateOrder"),
        ("gateway", "svc-stock", "/stockmesh.order.v1.OrderService/CreateOrder"),
    ],
)
def test_the_policy_refuses_every_other_edge(caller: str, callee: str, path: str) -> None:
    decision = workload(callee).decide(spiffe(caller), path)
    assert not decision.allowed
    assert "deny-all" in decision.policy


def test_a_caller_of_another_namespace_or_trust_domain_is_not_the_same_account() -> None:
    stock = workload("svc-stock")
    assert not stock.decide(spiffe("svc-order", namespace="elsewhere"), RESERVE).allowed
    assert not stock.decide(spiffe("svc-order", domain="other.example"), RESERVE).allowed


def test_cluster_local_in_a_policy_stands_for_the_local_trust_domain() -> None:
    assert workload("svc-stock").decide(spiffe("svc-order", domain="cluster.local"), RESERVE).allowed
    assert workload("svc-stock").decide(spiffe("svc-order", domain=DOMAIN), RESERVE).allowed


def test_health_needs_no_identity_but_everything_else_does() -> None:
    stock = workload("svc-stock")
    assert stock.decide(None, "/grpc.health.v1.Health/Check").allowed
    assert not stock.decide(None, f"{STOCK}.StockService/GetStockLevel").allowed


def resource(spec: dict[str, Any], name: str = "sample") -> Resource:
    body = {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy"}
    return Resource(
        f"{name}.yaml#0", {**body, "metadata": {"name": name, "namespace": "stockmesh"}, "spec": spec}
    )


def test_a_deny_policy_wins_over_any_allow() -> None:
    found = authz.policies(
        [
            resource({"rules": [{}]}, "allow-all"),
            resource(
                {"action": "DENY", "rules": [{"to": [{"operation": {"paths": [RESERVE]}}]}]}, "no-reserving"
            ),
        ]
    )
    decision = workload("svc-stock", found).decide(spiffe("svc-order"), RESERVE)
    assert (decision.allowed, decision.policy) == (False, "no-reserving")


def test_without_any_allow_policy_everything_is_allowed_as_in_istio() -> None:
    assert workload("svc-stock", []).decide(spiffe("anyone"), RESERVE).allowed


def test_a_selector_limits_a_policy_to_its_workload() -> None:
    found = authz.policies([resource({"selector": {"matchLabels": {"app": "svc-order"}}, "rules": [{}]})])
    assert workload("svc-order", found).decide(spiffe("x"), RESERVE).allowed
    assert workload("svc-stock", found).decide(spiffe("x"), RESERVE).allowed  # nothing applies to it


@pytest.mark.parametrize(
    "spec",
    [
        {"action": "CUSTOM", "rules": [{}]},
        {"rules": [{"when": [{"key": "request.headers[x]", "values": ["y"]}]}]},
        {"rules": [{"to": [{"operation": {"ports": ["8080"]}}]}]},
        {"rules": [{"from": [{"source": {"ipBlocks": ["10.0.0.0/8"]}}]}]},
    ],
)
def test_a_rule_the_local_runtime_cannot_enforce_stops_it_from_starting(spec: dict[str, Any]) -> None:
    with pytest.raises(PolicyError, match="sample"):
        authz.policies([resource(spec)])
