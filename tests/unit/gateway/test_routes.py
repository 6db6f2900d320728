"""The route table is built from whatever descriptors it is given: every rule,
additional bindings included, and never two rules that could meet."""

from __future__ import annotations

import pytest
from google.api import http_pb2

from gateway.descriptors import Contracts
from gateway.routes import RouteError, RouteTable, load, service_of
from tests.support.contracts import widget_set


def table(rules: dict[str, http_pb2.HttpRule], **kwargs: tuple[str, ...]) -> RouteTable:
    return RouteTable(Contracts(widget_set(rules, **kwargs)))


def test_every_rpc_of_the_contracts_has_a_route() -> None:
    routes = load()
    contracts = Contracts.load(__import__("gateway.settings").settings.bundled_descriptors())
    methods = {
        m.full_name for s in contracts.services() for m in s.methods if s.full_name.startswith("stockmesh.")
    }

    assert {r.method.full_name for r in routes} == methods


def test_an_additional_binding_is_a_route_of_its_own() -> None:
    jwks = [r for r in load() if r.method.name == "GetJwks"]

    assert sorted(r.template.text for r in jwks) == ["/.well-known/jwks.json", "/v1/jwks"]
    assert all(r.public for r in jwks)


def test_a_method_never_seen_before_is_routed_to_its_packages_service() -> None:
    routes = table({"GetWidget": http_pb2.HttpRule(get="/v1/{name=widgets/*}")})

    found = routes.match("GET", "/v1/widgets/w1")
    assert found is not None
    assert found.value.grpc_path == "/stockmesh.widget.v1.WidgetService/GetWidget"
    assert found.value.service == "widget"
    assert found.bindings == {("name",): "widgets/w1"}


def test_body_response_body_and_custom_verbs_come_from_the_rule() -> None:
    routes = table(
        {
            "UpdateWidget": http_pb2.HttpRule(
                patch="/v1/{widget.name=widgets/*}", body="widget", response_body="widget"
            ),
            "PaintWidget": http_pb2.HttpRule(post="/v1/{name=widgets/*}:paint", body="*"),
            "LockWidget": http_pb2.HttpRule(
                custom=http_pb2.CustomHttpPattern(kind="LOCK", path="/v1/{name=widgets/*}")
            ),
        }
    )

    update = routes.match("PATCH", "/v1/widgets/w1")
    paint = routes.match("POST", "/v1/widgets/w1:paint")
    lock = routes.match("LOCK", "/v1/widgets/w1")
    assert update is not None
    assert (update.value.body, update.value.response_body) == ("widget", "widget")
    assert update.bindings == {("widget", "name"): "widgets/w1"}
    assert paint is not None
    assert paint.value.body == "*"
    assert lock is not None
    assert lock.value.method.name == "LockWidget"


def test_two_rules_that_could_match_one_request_refuse_to_build_naming_both() -> None:
    with pytest.raises(RouteError) as refused:
        table(
            {
                "GetWidget": http_pb2.HttpRule(get="/v1/{name=widgets/*}"),
                "GetOther": http_pb2.HttpRule(get="/v1/widgets/{name}"),
            }
        )

    assert "GetWidget" in str(refused.value)
    assert "GetOther" in str(refused.value)


def test_a_rule_naming_a_field_the_request_lacks_refuses_to_build() -> None:
    with pytest.raises(RouteError, match="colour"):
        table({"GetWidget": http_pb2.HttpRule(get="/v1/{colour=widgets/*}")})
    with pytest.raises(RouteError, match="body 'shape'"):
        table({"PutWidget": http_pb2.HttpRule(post="/v1/widgets", body="shape")})


def test_the_contract_comment_decides_which_routes_are_open() -> None:
    routes = table(
        {
            "GetWidget": http_pb2.HttpRule(get="/v1/{name=widgets/*}"),
            "Ping": http_pb2.HttpRule(get="/v1/ping"),
        },
        public=("Ping",),
    )

    assert {r.method.name: r.public for r in routes.routes} == {"GetWidget": False, "Ping": True}


@pytest.mark.parametrize(
    ("package", "service"),
    [("stockmesh.stock.v1", "stock"), ("stockmesh.widget.v2beta1", "widget"), ("acme.billing.v1", "billing")],
)
def test_the_serving_peer_is_the_package_name_before_its_version(package: str, service: str) -> None:
    assert service_of(package) == service
