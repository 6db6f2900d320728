"""The grammar of google.api.http path templates: literals, variables binding a
field path to a pattern, wildcards and a verb; the malformed templates refused; and
a template's OpenAPI path."""

from __future__ import annotations

import pytest

from gateway.templates import TemplateError, Variable, parse


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
