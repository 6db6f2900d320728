"""The OpenAPI document of the contracts as a whole: valid OpenAPI 3.1 with one
operation per route, stable, with info on login and errors; and its security
(public routes need no token) and error responses (google.rpc.Status as printed)."""

from __future__ import annotations

import json
import re
from typing import Any

from google.rpc import code_pb2
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from gateway import errors, openapi
from gateway.routes import RouteTable
from tests.support.openapi import SCHEMAS, operation, operations, validator


def test_the_document_of_the_contracts_is_valid_openapi_3_1(doc: dict[str, Any]) -> None:
    assert doc["openapi"] == "3.1.0"
    validate(doc, cls=OpenAPIV31SpecValidator)


def test_every_route_has_exactly_one_operation_with_a_unique_id(
    doc: dict[str, Any], table: RouteTable
) -> None:
    found = operations(doc)
    described = sorted((op["x-stockmesh-template"], method.upper()) for _, method, op in found)
    assert described == sorted((route.template.text, route.http_method) for route in table.routes)
    ids = [op["operationId"] for _, _, op in found]
    assert len(ids) == len(set(ids))
    # An additional binding is a second operation of the same method.
    assert operation(doc, "AuthService_GetJwks")[0] == "/v1/jwks"
    assert operation(doc, "AuthService_GetJwks_2")[0] == "/.well-known/jwks.json"


def test_no_two_paths_are_the_same_path_to_openapi(doc: dict[str, Any]) -> None:
    # OpenAPI treats paths that differ only in parameter names as one path.
    shapes = [re.sub(r"\{[^}]*\}", "{}", path) for path in doc["paths"]]
    assert len(shapes) == len(set(shapes))


def test_the_same_contracts_give_the_same_json(doc: dict[str, Any], table: RouteTable) -> None:
    again = openapi.document(RouteTable.load())
    assert json.dumps(again) == json.dumps(doc)


def test_info_explains_login_and_errors_and_servers_are_optional(
    doc: dict[str, Any], table: RouteTable
) -> None:
    info = doc["info"]
    assert (info["title"], info["version"]) == ("stockmesh", "v1")
    for text in (
        "POST /v1/auth:login",
        "Authorization: Bearer <accessToken>",
        "google.rpc.Status",
        "| INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE | 400 |",
        "| ALREADY_EXISTS, ABORTED | 409 |",
        "| CANCELLED | 499 |",
        "| DEADLINE_EXCEEDED | 504 |",
    ):
        assert text in info["description"]
    assert "servers" not in doc
    served = openapi.document(table, title="t", version="9", server_url="https://api.example.test")
    assert served["servers"] == [{"url": "https://api.example.test"}]
    assert served["info"]["title"] == "t"


def test_public_routes_need_no_token_and_the_others_the_bearer(
    doc: dict[str, Any], table: RouteTable
) -> None:
    scheme = doc["components"]["securitySchemes"]["bearer"]
    assert scheme == {**scheme, "type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert operation(doc, "AuthService_Login")[2]["security"] == []
    assert operation(doc, "AuthService_GetJwks_2")[2]["security"] == []
    public = {route.template.text for route in table.routes if route.public}
    for _, _, op in operations(doc):
        expected: list[dict[str, list[str]]] = (
            [] if op["x-stockmesh-template"] in public else [{"bearer": []}]
        )
        assert op["security"] == expected, op["operationId"]


def test_errors_are_the_status_schema_that_the_gateway_prints(doc: dict[str, Any]) -> None:
    responses = doc["components"]["responses"]
    status_ref = {"$ref": SCHEMAS + "google.rpc.Status"}
    for _, _, op in operations(doc):
        assert op["responses"]["default"] == {"$ref": "#/components/responses/Error"}
        for code in ("400", "429", "503"):
            assert code in op["responses"]
    for response in responses.values():
        if "content" in response:
            assert response["content"]["application/json"]["schema"] == status_ref
    assert "404" in operation(doc, "WarehouseService_GetWarehouse")[2]["responses"]
    assert "409" in operation(doc, "WarehouseService_UpdateWarehouse")[2]["responses"]
    assert "401" not in operation(doc, "AuthService_Login")[2]["responses"]
    check = validator(doc, status_ref)
    refused = errors.status(
        code_pb2.INVALID_ARGUMENT,
        "lines[0].quantity: must be at least 1",
        "INVALID_FIELD",
        violations=[("lines[0].quantity", "must be at least 1")],
        metadata={"field": "lines[0].quantity"},
    )
    printed = json.loads(errors.body(refused))
    assert check.is_valid(printed), list(check.iter_errors(printed))
    assert not check.is_valid({"code": 3, "message": "x", "details": [{"reason": "no @type"}]})
