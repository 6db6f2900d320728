"""Routing by method and template: every route of the contracts reaches its
method, a verb route wins over a route taking the verb, routes that one request
could match conflict and others do not, and no request path, however long or
odd, makes matching raise."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pb2

from gateway.templates import PathTemplate, RouteConflict, Router, parse, split_path
from tests.support.templates import router_of

DESCRIPTORS = Path(__file__).parents[3] / "gen" / "stockmesh" / "descriptors.binpb"


def contract_routes() -> list[tuple[str, str, str]]:
    """(HTTP method, template, "Service.Method") for every rule and additional binding of the contracts."""
    files = descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTORS.read_bytes())
    routes: list[tuple[str, str, str]] = []
    for file in files.file:
        if not file.name.startswith("stockmesh/"):
            continue
        for service in file.service:
            for method in service.method:
                rule = method.options.Extensions[annotations_pb2.http]
                for binding in [rule, *rule.additional_bindings]:
                    routes.append((*pattern_of(binding), f"{service.name}.{method.name}"))
    return routes


def pattern_of(rule: http_pb2.HttpRule) -> tuple[str, str]:
    kind = rule.WhichOneof("pattern")
    if kind == "custom":
        return rule.custom.kind, rule.custom.path
    assert kind in ("get", "put", "post", "delete", "patch")
    return kind.upper(), str(getattr(rule, kind))


def example_path(template: PathTemplate) -> str:
    """A request path the template matches: each wildcard filled with a value no literal uses."""
    filled = [
        "x9" if segment == "*" else "y9/z9" if segment == "**" else segment for segment in template.segments
    ]
    path = "/" + "/".join(filled)
    return path if template.verb is None else f"{path}:{template.verb}"


def test_every_route_of_the_contracts_is_added_without_conflict_and_reaches_its_method() -> None:
    routes = contract_routes()
    router: Router[str] = Router()
    for method, template, target in routes:
        router.add(method, parse(template), target)

    assert routes
    for method, template, target in routes:
        routed = router.match(method, example_path(parse(template)))
        assert routed is not None, template
        assert routed.value == target, template


@pytest.mark.parametrize(
    ("rule", "method"),
    [
        (http_pb2.HttpRule(get="/v1/{name=things/*}"), "GET"),
        (http_pb2.HttpRule(put="/v1/{name=things/*}"), "PUT"),
        (http_pb2.HttpRule(post="/v1/{name=things/*}"), "POST"),
        (http_pb2.HttpRule(delete="/v1/{name=things/*}"), "DELETE"),
        (http_pb2.HttpRule(patch="/v1/{name=things/*}"), "PATCH"),
        (
            http_pb2.HttpRule(custom=http_pb2.CustomHttpPattern(kind="HEAD", path="/v1/{name=things/*}")),
            "HEAD",
        ),
    ],
)
def test_every_pattern_kind_of_a_rule_routes_by_its_method(rule: http_pb2.HttpRule, method: str) -> None:
    kind, template = pattern_of(rule)
    router: Router[str] = Router()
    router.add(kind, parse(template), "thing")

    routed = router.match(method, "/v1/things/t1")

    assert routed is not None
    assert routed.bindings == {("name",): "things/t1"}
    assert router.allowed_methods("/v1/things/t1") == [method]


def test_an_additional_binding_routes_to_the_same_method() -> None:
    router: Router[str] = Router()
    for method, template, target in contract_routes():
        router.add(method, parse(template), target)

    first, second = router.match("GET", "/v1/jwks"), router.match("GET", "/.well-known/jwks.json")
    assert first is not None
    assert second is not None
    assert first.value == second.value == "AuthService.GetJwks"


def test_a_match_carries_the_value_and_the_bindings() -> None:
    router = router_of(("PATCH", "/v1/{product.name=products/*}"))

    routed = router.match("PATCH", "/v1/products/p%201")

    assert routed is not None
    assert routed.value == "PATCH /v1/{product.name=products/*}"
    assert routed.bindings == {("product", "name"): "products/p 1"}


def test_a_verb_route_wins_over_a_route_taking_the_verb_into_its_last_segment() -> None:
    for order in ((0, 1), (1, 0)):
        routes = [("POST", "/v1/{name=products/*}"), ("POST", "/v1/{name=products/*}:archive")]
        router = router_of(*(routes[i] for i in order))

        archived = router.match("POST", "/v1/products/a:archive")
        other = router.match("POST", "/v1/products/a:other")
        assert archived is not None
        assert (archived.value, archived.bindings) == (
            "POST /v1/{name=products/*}:archive",
            {("name",): "products/a"},
        )
        assert other is not None
        assert (other.value, other.bindings) == (
            "POST /v1/{name=products/*}",
            {("name",): "products/a:other"},
        )


def test_a_literal_branch_that_leads_nowhere_falls_back_to_a_wildcard() -> None:
    router = router_of(("GET", "/v1/a/{x}/c"), ("GET", "/v1/{y}/b"))

    routed = router.match("GET", "/v1/a/b")

    assert routed is not None
    assert routed.bindings == {("y",): "a"}


def test_routes_are_kept_apart_by_method() -> None:
    router = router_of(("GET", "/v1/{name=products/*}"), ("DELETE", "/v1/{name=products/*}"))

    deleted = router.match("DELETE", "/v1/products/a")

    assert deleted is not None
    assert deleted.value == "DELETE /v1/{name=products/*}"
    assert router.match("PUT", "/v1/products/a") is None


def test_a_method_is_upper_cased_when_added_and_compared_as_sent() -> None:
    router = router_of(("get", "/v1/products"))

    assert router.match("GET", "/v1/products") is not None
    assert router.match("get", "/v1/products") is None


def test_the_allowed_methods_are_those_with_a_route_for_the_path() -> None:
    router: Router[str] = Router()
    for method, template, target in contract_routes():
        router.add(method, parse(template), target)

    assert router.allowed_methods("/v1/products") == ["GET", "POST"]
    assert router.allowed_methods("/v1/products/p1") == ["GET", "PATCH"]
    assert router.allowed_methods("/v1/products/p1:archive") == ["GET", "PATCH", "POST"]
    assert router.allowed_methods("/v1/nothing") == []
    assert router.allowed_methods("/v1/products/%zz") == []


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("/v1/{name=products/*}", "/v1/{id=products/*}"),
        ("/v1/{name=users/*}", "/v1/users/me"),
        ("/v1/*/b", "/v1/a/*"),
        ("/v1/{path=**}", "/v1/a/b/c"),
        ("/v1/a/**", "/v1/a"),
        ("/v1/**", "/v1/*/x/**"),
        ("/v1/{name=products/*}:archive", "/v1/products/{id}:archive"),
    ],
)
def test_two_routes_one_request_could_match_conflict(first: str, second: str) -> None:
    router = router_of(("GET", first))

    with pytest.raises(RouteConflict) as refused:
        router.add("get", parse(second), "the second")

    assert refused.value.first == f"GET {first}"
    assert refused.value.second == "the second"
    assert f"GET {first}" in str(refused.value)
    assert "the second" in str(refused.value)
    assert isinstance(refused.value, ValueError)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("/v1/{name=products/*}", "/v1/{name=orders/*}"),
        ("/v1/{name=products/*}", "/v1/{name=products/*/variants/*}"),
        ("/v1/a/**", "/v1/b"),
        ("/v1/a/*/**", "/v1/a"),
        ("/v1/{name=products/*}:archive", "/v1/{name=products/*}:unarchive"),
        ("/v1/{name=products/*}:archive", "/v1/{name=products/*}"),
    ],
)
def test_routes_no_request_could_match_both_do_not_conflict(first: str, second: str) -> None:
    router = router_of(("GET", first), ("GET", second))

    assert router.match("GET", example_path(parse(second))) is not None


def test_the_same_template_under_another_method_does_not_conflict() -> None:
    router_of(("GET", "/v1/{name=products/*}"), ("PATCH", "/v1/{name=products/*}"))


def test_a_very_long_request_path_matches_without_exhausting_the_stack() -> None:
    router = router_of(("GET", "/v1/things/{id}"), ("GET", "/v2/{path=**}"))

    assert router.match("GET", "/v1/" + "a/" * 50_000 + "b") is None
    routed = router.match("GET", "/v2/" + "a/" * 50_000 + "b")
    assert routed is not None
    assert len(routed.bindings[("path",)]) == 100_001


def test_no_request_path_makes_matching_raise() -> None:
    router = router_of(("GET", "/v1/things/{id}"), ("GET", "/v1/{path=a/**}:verb"), ("POST", "/{x}"))
    # Paths drawn from the characters that matter to splitting and decoding, seeded to be repeatable.
    draw = random.Random(2024)
    alphabet = [
        "/",
        "%",
        ":",
        "2",
        "F",
        "f",
        "z",
        "C3",
        "A9",
        "ff",
        "v1",
        "things",
        "a",
        "é",
        "\x00",
        " ",
        "+",
    ]
    paths = ["".join(draw.choices(alphabet, k=draw.randint(0, 12))) for _ in range(3000)]

    for raw_path in paths:
        router.match("GET", raw_path)
        router.allowed_methods(raw_path)
        parse("/v1/{path=**}").match(*split_path(raw_path))
