"""An HTTP request becomes exactly the request message its rule describes,
and bad input is a 4xx naming where, never an exception of ours."""

from __future__ import annotations

import json

import pytest

from gateway import errors, transcode
from gateway.routes import Route, RouteTable

TABLE = RouteTable.load()


def route(method: str, path: str) -> tuple[Route, dict[tuple[str, ...], str]]:
    found = TABLE.match(method, path)
    assert found is not None
    return found.value, found.bindings


def build(method: str, path: str, body: object = None, query: list[tuple[str, str]] | None = None) -> object:
    r, bindings = route(method, path)
    raw = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    return transcode.request_message(r, bindings, query or [], raw, "application/json")


def refusal(method: str, path: str, body: object = None, **kwargs: object) -> errors.EdgeError:
    with pytest.raises(errors.EdgeError) as refused:
        build(method, path, body, **kwargs)  # type: ignore[arg-type]
    return refused.value


def test_a_body_field_rule_fills_that_field_and_the_path_fills_the_resource_name() -> None:
    message = build(
        "PATCH",
        "/v1/warehouses/w1",
        {"displayName": "Berlin", "name": "warehouses/other"},
        query=[("updateMask", "displayName,address")],
    )

    assert message.warehouse.name == "warehouses/w1"  # type: ignore[attr-defined]
    assert message.warehouse.display_name == "Berlin"  # type: ignore[attr-defined]
    assert list(message.update_mask.paths) == ["display_name", "address"]  # type: ignore[attr-defined]


def test_a_star_body_rule_takes_every_field_from_the_body() -> None:
    message = build(
        "POST", "/v1/warehouses/w1/stockLevels:receive", {"lines": [{"sku": "A-1", "quantity": "7"}]}
    )

    assert message.warehouse == "warehouses/w1"  # type: ignore[attr-defined]
    assert message.lines[0].quantity == 7  # type: ignore[attr-defined]


def test_query_fields_fill_what_path_and_body_leave_repeated_keys_repeat() -> None:
    message = build(
        "GET",
        "/v1/warehouses/-/stockLevels:watch",
        query=[("skus", "A"), ("skus", "B"), ("sendInitialLevels", "true")],
    )

    assert list(message.skus) == ["A", "B"]  # type: ignore[attr-defined]
    assert message.send_initial_levels is True  # type: ignore[attr-defined]


def test_malformed_json_is_a_400_naming_line_and_column() -> None:
    r, bindings = route("POST", "/v1/warehouses")
    with pytest.raises(errors.EdgeError) as refused:
        transcode.request_message(r, bindings, [], b'{"code": "B1",\n "displayName": }', "application/json")

    assert refused.value.http_status == 400
    assert "line 2 column" in refused.value.status.message


def test_an_unknown_field_or_a_wrong_type_is_a_400_naming_the_field() -> None:
    unknown = refusal("POST", "/v1/warehouses", {"code": "B1", "colour": "red"})
    wrong = refusal(
        "POST", "/v1/warehouses/w1/stockLevels:receive", {"lines": [{"sku": "A", "quantity": "many"}]}
    )

    assert unknown.http_status == wrong.http_status == 400
    assert unknown.status.message.startswith("warehouse.colour: ")
    assert wrong.status.message.startswith("lines.quantity: ")


def test_a_body_that_is_not_an_object_or_not_json_media_is_refused() -> None:
    r, bindings = route("POST", "/v1/warehouses/w1/stockLevels:receive")
    with pytest.raises(errors.EdgeError) as media:
        transcode.request_message(r, bindings, [], b"sku=A", "application/x-www-form-urlencoded")

    assert media.value.http_status == 415
    assert refusal("POST", "/v1/warehouses/w1/stockLevels:receive", [1, 2]).http_status == 400


def test_an_unknown_query_parameter_is_a_400_naming_it() -> None:
    unknown = refusal("GET", "/v1/warehouses", query=[("colour", "red")])

    assert unknown.http_status == 400
    assert "colour" in unknown.status.message


def test_idempotency_key_fills_request_id_only_when_the_body_has_none() -> None:
    given = build("POST", "/v1/warehouses/w1/stockLevels:receive", {"requestId": "from-body"})
    empty = build("POST", "/v1/warehouses/w1/stockLevels:receive", {})
    transcode.fill_request_id(given, "from-header")  # type: ignore[arg-type]
    transcode.fill_request_id(empty, "from-header")  # type: ignore[arg-type]

    assert given.request_id == "from-body"  # type: ignore[attr-defined]
    assert empty.request_id == "from-header"  # type: ignore[attr-defined]


def test_if_match_fills_the_etag_of_the_request_or_of_its_body_resource() -> None:
    update_route, bindings = route("PATCH", "/v1/products/p1")
    update = transcode.request_message(update_route, bindings, [], b"{}", "application/json")
    archive_route, bindings = route("POST", "/v1/products/p1:archive")
    archive = transcode.request_message(archive_route, bindings, [], b"{}", "application/json")
    transcode.fill_etag(update_route, update, 'W/"abc"')
    transcode.fill_etag(archive_route, archive, '"def"')

    assert update.product.etag == "abc"  # type: ignore[attr-defined]
    assert archive.etag == "def"  # type: ignore[attr-defined]


def test_responses_print_camel_case_int64_as_strings_and_zero_values() -> None:
    r, _ = route("GET", "/v1/warehouses/w1/stockLevels/A")
    reply = r.response_class()
    reply.stock_level.on_hand = 5  # type: ignore[attr-defined]
    reply.stock_level.name = "warehouses/w1/stockLevels/A"  # type: ignore[attr-defined]

    content, _ = transcode.response_json(r, reply)
    level = json.loads(content)["stockLevel"]
    assert level["onHand"] == "5" or level["onHand"] == 5
    assert "reserved" in level  # a zero is printed, not omitted
