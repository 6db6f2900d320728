"""Splitting a request path into encoded segments and a verb, and binding it to a
template: how each kind of variable decodes, what a literal, a wildcard and a verb
match, and that a malformed request path matches nothing."""

from __future__ import annotations

import pytest

from gateway.templates import parse, split_path
from tests.support.templates import router_of


def bindings(template: str, raw_path: str) -> dict[tuple[str, ...], str] | None:
    return parse(template).match(*split_path(raw_path))


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
