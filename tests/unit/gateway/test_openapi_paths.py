"""The OpenAPI operations' paths, parameters, request bodies and headers: one path
parameter per resource-name segment reaching its route with the documented
binding, query parameters for the fields neither path nor body set, the body, and
the headers where the gateway reads them."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest

from gateway.routes import Route, RouteTable
from tests.support.openapi import SCHEMAS, operation, operations, validator


def parameters(op: dict[str, Any], where: str) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in op["parameters"] if p.get("in") == where}


def header_refs(op: dict[str, Any]) -> set[str]:
    return {p["$ref"].rsplit("/", 1)[1] for p in op["parameters"] if "$ref" in p}


def test_resource_names_are_spelled_out_one_parameter_per_segment(doc: dict[str, Any]) -> None:
    path, method, op = operation(doc, "StockService_GetStockLevel")
    assert (path, method) == ("/v1/warehouses/{warehouse}/stockLevels/{stockLevel}", "get")
    params = parameters(op, "path")
    assert list(params) == ["warehouse", "stockLevel"]
    for param in params.values():
        assert param["required"] is True
        assert param["x-stockmesh-field"] == "name"
        assert param["x-stockmesh-pattern"] == "warehouses/*/stockLevels/*"
        assert "warehouses/{warehouse}/stockLevels/{stockLevel}" in param["description"]
    segment = re.compile(params["warehouse"]["schema"]["pattern"])
    assert all(segment.search(value) for value in ("w1", "-", "a:b", "a b", "..."))
    assert not any(segment.search(value) for value in ("", "a/b", ".", ".."))
    # A nested field path names the field it fills.
    assert (
        parameters(operation(doc, "WarehouseService_UpdateWarehouse")[2], "path")["warehouse"][
            "x-stockmesh-field"
        ]
        == "warehouse.name"
    )


@pytest.mark.parametrize("value", ["w1", "a b:c", "ümlaut", "100%"])
def test_every_documented_path_reaches_its_route_with_the_documented_binding(
    doc: dict[str, Any], table: RouteTable, value: str
) -> None:
    # A client fills each parameter with one percent-encoded segment; the gateway's own router must
    # choose the operation's route and bind the field as the parameter's description spells it.
    for path, method, op in operations(doc):
        params = parameters(op, "path")
        url = path
        for name in params:
            url = url.replace("{" + name + "}", quote(value, safe=""))
        found = table.match(method.upper(), url)
        assert found is not None, url
        route: Route = found.value
        assert (route.template.text, route.http_method) == (op["x-stockmesh-template"], method.upper())
        for param in params.values():
            field = tuple(param["x-stockmesh-field"].split("."))
            spelled = re.search(r"= `([^`]*)`", param["description"])
            assert spelled is not None
            assert found.bindings[field] == re.sub(r"\{[^}]*\}", lambda _: value, spelled.group(1)), url


def test_query_parameters_are_the_fields_neither_path_nor_body_set(doc: dict[str, Any]) -> None:
    query = parameters(operation(doc, "StockService_ListMovements")[2], "query")
    assert query["types"]["style"] == "form"
    assert query["types"]["explode"] is True
    assert query["types"]["schema"] == {
        "type": "array",
        "items": {"$ref": SCHEMAS + "stockmesh.stock.v1.MovementType"},
    }
    assert query["startTime"]["schema"]["format"] == "date-time"
    assert query["afterSequence"]["schema"]["type"] == "string"
    assert query["newestFirst"]["schema"] == {"type": "boolean"}
    assert query["pageSize"]["schema"]["type"] == "integer"
    assert query["sku"]["description"] == "Only movements of this SKU."
    # The body field and the path-bound field are not in the query; the rest is, required as declared.
    update = parameters(operation(doc, "WarehouseService_UpdateWarehouse")[2], "query")
    assert set(update) == {"requestId", "updateMask"}
    assert update["updateMask"]["required"] is True
    assert update["updateMask"]["schema"]["type"] == "string"
    # body "*": every field goes in the body.
    for _, _, op in operations(doc):
        if op["x-stockmesh-template"] == "/v1/{name=warehouses/*}:archive":
            assert parameters(op, "query") == {}


def test_the_request_body_is_the_body_field_or_the_request_less_path_fields(doc: dict[str, Any]) -> None:
    create = operation(doc, "WarehouseService_CreateWarehouse")[2]["requestBody"]
    assert create["required"] is True
    assert create["content"]["application/json"]["schema"] == {
        "$ref": SCHEMAS + "stockmesh.stock.v1.Warehouse"
    }
    archive = operation(doc, "WarehouseService_ArchiveWarehouse")[2]["requestBody"]
    body = archive["content"]["application/json"]["schema"]
    assert set(body["properties"]) == {"requestId", "etag"}
    check = validator(doc, body)
    assert check.is_valid({"requestId": "r1", "etag": "e1"})
    assert not check.is_valid({"requestId": "r1", "name": "warehouses/w1"})
    # requestId is REQUIRED in gRPC, but the edge fills it (Idempotency-Key or a fresh id).
    assert check.is_valid({"etag": "e1"})
    assert "requestBody" not in operation(doc, "WarehouseService_GetWarehouse")[2]


def test_headers_are_documented_where_the_gateway_reads_them(doc: dict[str, Any]) -> None:
    def refs(operation_id: str) -> set[str]:
        return header_refs(operation(doc, operation_id)[2])

    assert refs("WarehouseService_CreateWarehouse") >= {"X-Request-Id", "Idempotency-Key", "grpc-timeout"}
    assert "If-Match" not in refs("StockService_ReceiveStock")  # no etag anywhere in its request
    assert "If-Match" in refs("WarehouseService_ArchiveWarehouse")  # the request's etag
    assert "If-Match" in refs("WarehouseService_UpdateWarehouse")  # the body resource's etag
    assert refs("WarehouseService_GetWarehouse") == {"X-Request-Id", "grpc-timeout", "If-None-Match"}
    assert refs("StockService_WatchStockLevels") == {"X-Request-Id", "Last-Event-ID"}
    timeout = re.compile(doc["components"]["parameters"]["grpc-timeout"]["schema"]["pattern"])
    assert timeout.search("500m")
    assert not timeout.search("500ms")
    ok = operation(doc, "WarehouseService_GetWarehouse")[2]["responses"]["200"]
    assert "ETag" in ok["headers"]
    assert "ETag" not in operation(doc, "StockService_ListStockLevels")[2]["responses"]["200"]["headers"]
