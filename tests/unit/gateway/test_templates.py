"""Specifications of google.api.http path templates: the grammar, binding a request path, and routing."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pb2

from gateway.templates import (
    PathTemplate,
    RouteConflict,
    Router,
    TemplateError,
    Variable,
    parse,
    split_path,
)

DESCRIPTORS = Path(__file__).parents[3] / "gen" / "stockmesh" / "descriptors.binpb"


def bindings(template: str, raw_path: str) -> dict[tuple[str, ...], str] | None:
    return parse(template).match(*split_path(raw_path))


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


def router_of(*routes: tuple[str, str]) -> Router[str]:
    router: Router[str] = Router()
    for method, template in routes:
        router.add(method, parse(template), f"{method} {template}")
    return router


# The grammar


def test_a_literal_template_has_neither_variables_nor_a_verb() -> None:
    template = parse("/.well-known/jwks.json")

    assert (template.text, template.verb, template.variables) == ("/.well-known/jwks.json", None, ())
    assert template.segments == (".well-known", "jwks.json")


def test_a_verb_follows_the_last_segment() -> None:
    template = parse("/v1/users:current")

    assert (template.segments, template.verb) == (("v1", "users"), "current")


def test_a_bare_variable_means_one_segment_of_any_value() -> None:
    template = parse("/v1/things/{id}")

    assert template.variables == (Variable(("id",), "*", 2, 3),)
    assert template.segments == ("v1", "things", "*")


def test_a_variable_binds_a_dotted_field_path_to_its_pattern() -> None:
    template = parse("/v1/{product.name=products/*}")

    assert [(v.field_path, v.pattern) for v in template.variables] == [(("product", "name"), "products/*")]
    assert template.segments == ("v1", "products", "*")


def test_a_variable_and_a_verb_combine() -> None:
    template = parse("/v1/{name=products/*/variants/*}:archive")

    assert template.verb == "archive"
    assert template.variables == (Variable(("name",), "products/*/variants/*", 1, 5),)


def test_literals_may_follow_a_variable() -> None:
    template = parse("/v1/{parent=warehouses/*}/stockLevels:listLowStock")

    assert template.segments == ("v1", "warehouses", "*", "stockLevels")
    assert template.variables[0].field_path == ("parent",)


def test_a_path_may_hold_several_variables() -> None:
    template = parse("/v1/{a=x/*}/{b}/{c.d=**}")

    assert [v.field_path for v in template.variables] == [("a",), ("b",), ("c", "d")]
    assert template.segments == ("v1", "x", "*", "*", "**")


def test_wildcards_may_stand_outside_variables() -> None:
    assert parse("/v1/*/x/**").segments == ("v1", "*", "x", "**")


@pytest.mark.parametrize(
    ("text", "fault"),
    [
        ("", "must start with '/'"),
        ("v1/products", "must start with '/'"),
        ("/", "expected a segment"),
        ("/v1/", "expected a segment"),
        ("/v1//products", "expected a segment"),
        ("/v1/**/x", "'**' must be the last segment"),
        ("/v1/{name=**}/x", "'**' must be the last segment"),
        ("/v1/***", "unexpected '*'"),
        ("/v1/x*", "unexpected '*'"),
        ("/v1/{a={b}}", "variables cannot nest"),
        ("/v1/{a}/{a}", "bind overlapping fields"),
        ("/v1/{a}/{a.b}", "bind overlapping fields"),
        ("/v1/{name", "expected '}'"),
        ("/v1/{name=x", "expected '}'"),
        ("/v1/{}", "expected a field path"),
        ("/v1/{1st}", "expected a field path"),
        ("/v1/{a.}", "expected '}'"),
        ("/v1/{a=}", "expected a segment"),
        ("/v1/x:", "expected a verb"),
        ("/v1/x:a:b", "unexpected ':'"),
        ("/v1/x:a/b", "unexpected '/'"),
        ("/v1/a b", "unexpected ' '"),
        ("/v1/a%2Fb", "unexpected '%'"),
        ("/v1/x?y=1", "unexpected '?'"),
        ("/v1/x}", "unexpected '}'"),
    ],
)
def test_a_malformed_template_is_refused_naming_it_and_the_fault(text: str, fault: str) -> None:
    with pytest.raises(TemplateError) as refused:
        parse(text)

    assert repr(text) in str(refused.value)
    assert fault in str(refused.value)


def test_a_template_error_is_a_value_error() -> None:
    assert issubclass(TemplateError, ValueError)


@pytest.mark.parametrize(
    ("text", "openapi"),
    [
        ("/v1/{product.name=products/*}", "/v1/{product.name}"),
        ("/v1/{name=products/*}:archive", "/v1/{name}:archive"),
        ("/v1/{parent=warehouses/*}/stockLevels:listLowStock", "/v1/{parent}/stockLevels:listLowStock"),
        ("/v1/products/-/variants:lookupBarcode", "/v1/products/-/variants:lookupBarcode"),
        ("/v1/things/{id}", "/v1/things/{id}"),
        ("/v1/{path=**}", "/v1/{path}"),
        ("/.well-known/jwks.json", "/.well-known/jwks.json"),
    ],
)
def test_openapi_names_one_parameter_per_variable_by_its_field_path(text: str, openapi: str) -> None:
    assert parse(text).openapi_path() == openapi


def test_openapi_cannot_describe_a_wildcard_outside_a_variable() -> None:
    with pytest.raises(TemplateError, match="OpenAPI"):
        parse("/v1/*/things").openapi_path()


# Splitting and binding a request path


def test_a_request_path_splits_into_encoded_segments_and_a_verb() -> None:
    assert split_path("/v1/products/a%20b:archive") == (["v1", "products", "a%20b"], "archive")
    assert split_path("/v1/products") == (["v1", "products"], None)


def test_only_a_colon_in_the_last_segment_starts_a_verb_and_the_last_colon_does() -> None:
    assert split_path("/v1/a:b/c") == (["v1", "a:b", "c"], None)
    assert split_path("/v1/a:b:c") == (["v1", "a:b"], "c")


def test_a_single_segment_variable_is_fully_decoded() -> None:
    assert bindings("/v1/things/{id}", "/v1/things/a%2Fb%20c%C3%A9") == {("id",): "a/b cé"}


def test_a_double_star_variable_keeps_encoded_slashes_encoded() -> None:
    assert bindings("/v1/{path=**}", "/v1/a/b%2Fc/d%20e/f%2fg") == {("path",): "a/b%2Fc/d e/f%2fg"}


def test_a_multi_segment_pattern_keeps_encoded_slashes_encoded_too() -> None:
    # http.proto: any variable spanning more than one segment ("{var=foo/*}") reads as {+var}.
    assert bindings("/v1/{name=products/*}", "/v1/products/a%2Fb%3F") == {("name",): "products/a%2Fb?"}


def test_a_plus_in_a_path_is_a_plus_not_a_space() -> None:
    assert bindings("/v1/things/{id}", "/v1/things/a+b") == {("id",): "a+b"}


def test_a_literal_compares_with_the_decoded_segment() -> None:
    assert bindings("/.well-known/jwks.json", "/.well-known/jwks%2Ejson") == {}


def test_literals_are_case_sensitive() -> None:
    assert bindings("/v1/stockLevels", "/v1/stocklevels") is None


def test_a_double_star_matches_zero_or_more_segments() -> None:
    template = "/v1/{name=shelves/**}"

    assert bindings(template, "/v1/shelves") == {("name",): "shelves"}
    assert bindings(template, "/v1/shelves/a") == {("name",): "shelves/a"}
    assert bindings(template, "/v1/shelves/a/b/c") == {("name",): "shelves/a/b/c"}
    assert bindings("/v1/{path=**}", "/v1") == {("path",): ""}


def test_a_wildcard_outside_a_variable_matches_without_binding() -> None:
    assert bindings("/v1/*/things/{id}", "/v1/any/things/7") == {("id",): "7"}


def test_a_template_matches_only_its_own_segment_count() -> None:
    assert bindings("/v1/{name=products/*}", "/v1/products") is None
    assert bindings("/v1/{name=products/*}", "/v1/products/a/b") is None


def test_a_template_with_a_verb_matches_only_that_verb() -> None:
    template = "/v1/{name=products/*}:archive"

    assert bindings(template, "/v1/products/a:archive") == {("name",): "products/a"}
    assert bindings(template, "/v1/products/a:%61rchive") == {("name",): "products/a"}
    assert bindings(template, "/v1/products/a:unarchive") is None
    assert bindings(template, "/v1/products/a") is None


def test_a_template_without_a_verb_takes_a_requests_verb_into_its_last_segment() -> None:
    assert bindings("/v1/{name=products/*}", "/v1/products/a:b") == {("name",): "products/a:b"}
    assert bindings("/v1/things/{id}", "/v1/things/a:b%20c") == {("id",): "a:b c"}
    assert bindings("/v1/users", "/v1/users:current") is None


@pytest.mark.parametrize(
    "raw_path",
    [
        "/v1/things/%zz",
        "/v1/things/%2",
        "/v1/things/a%",
        "/v1/things/%ff",
        "/v1/things/%C3",
        "/v1//things/a",
        "/v1/things/a/",
        "/v1/things/",
        "/",
        "",
        "v1/things/a",
        "/v1/things/a:%zz",
    ],
)
def test_a_malformed_request_path_matches_nothing(raw_path: str) -> None:
    router = router_of(("GET", "/v1/{path=**}"), ("POST", "/v1/things/{id}"))

    assert bindings("/v1/{path=**}", raw_path) is None
    assert router.match("GET", raw_path) is None
    assert router.match("POST", raw_path) is None


# Routing


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
