"""The OpenAPI document generated from the contracts, and the offline docs page that shows it."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpx
import pytest
from google.protobuf import json_format
from google.rpc import code_pb2
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from starlette.applications import Starlette

from gateway import docs, errors, openapi
from gateway.routes import Route, RouteTable

SCHEMAS = "#/components/schemas/"


@pytest.fixture(scope="module")
def table() -> RouteTable:
    return RouteTable.load()


@pytest.fixture(scope="module")
def doc(table: RouteTable) -> dict[str, Any]:
    return openapi.document(table)


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in doc["paths"].items() for method, op in item.items()]


def operation(doc: dict[str, Any], operation_id: str) -> tuple[str, str, dict[str, Any]]:
    return next(found for found in operations(doc) if found[2]["operationId"] == operation_id)


def schema(doc: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = doc["components"]["schemas"][name]
    return found


def validator(doc: dict[str, Any], target: dict[str, Any]) -> Draft202012Validator:
    """A JSON Schema validator for `target` whose `#/components/...` references resolve in `doc`."""
    return Draft202012Validator({**target, "components": doc["components"]})


def parameters(op: dict[str, Any], where: str) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in op["parameters"] if p.get("in") == where}


def header_refs(op: dict[str, Any]) -> set[str]:
    return {p["$ref"].rsplit("/", 1)[1] for p in op["parameters"] if "$ref" in p}


# The document as a whole


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


# Paths and parameters


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


# Comments, field behaviour and the JSON mapping


def test_proto_comments_become_summaries_and_descriptions(doc: dict[str, Any]) -> None:
    _, _, op = operation(doc, "StockService_GetStockLevel")
    assert op["summary"] == "The level of one SKU in one warehouse."
    assert op["description"].startswith("The level of one SKU in one warehouse. A SKU the warehouse")
    assert "Roles: admin, manager, clerk, buyer, viewer." in op["description"]
    assert op["tags"] == ["StockService"]
    level = schema(doc, "stockmesh.stock.v1.StockLevel")
    assert level["description"] == "The stock of one SKU in one warehouse."
    assert level["properties"]["onHand"]["description"].startswith("Physically in the warehouse")
    tags = {tag["name"]: tag.get("description", "") for tag in doc["tags"]}
    assert tags["WarehouseService"] == "Warehouses: the places stock is held."


def test_field_behavior_becomes_required_read_only_and_write_only(doc: dict[str, Any]) -> None:
    assert schema(doc, "stockmesh.stock.v1.StockLine")["required"] == ["sku", "quantity"]
    warehouse = schema(doc, "stockmesh.stock.v1.Warehouse")
    assert set(warehouse["required"]) == {"code", "displayName"}
    assert warehouse["properties"]["status"]["readOnly"] is True
    assert warehouse["properties"]["createTime"]["readOnly"] is True
    assert "readOnly" not in warehouse["properties"]["etag"]
    assert "Immutable" in warehouse["properties"]["code"]["description"]
    reservation = schema(doc, "stockmesh.stock.v1.Reservation")
    assert reservation["properties"]["ttl"]["writeOnly"] is True
    # Oneof members are never required, and at most one may be given.
    assert not {"expireTime", "ttl"} & set(reservation["required"])
    check = validator(doc, {"$ref": SCHEMAS + "stockmesh.stock.v1.Reservation"})
    line = {"sku": "A1", "warehouse": "warehouses/w1", "quantity": "1"}
    assert check.is_valid({"reference": "orders/1", "lines": [line], "ttl": "60s"})
    assert not check.is_valid({"reference": "orders/1", "lines": [line], "ttl": "60s", "expireTime": "x"})


def test_the_schemas_follow_the_proto3_json_mapping(doc: dict[str, Any]) -> None:
    level = schema(doc, "stockmesh.stock.v1.StockLevel")["properties"]
    assert (level["onHand"]["type"], level["onHand"]["format"]) == ("string", "int64")
    assert re.search(level["onHand"]["pattern"], "-42")
    assert level["updateTime"]["format"] == "date-time"
    assert level["lowStock"]["type"] == "boolean"
    kinds = schema(doc, "stockmesh.stock.v1.MovementType")
    assert kinds["type"] == "string"
    assert "MOVEMENT_TYPE_RECEIPT" in kinds["enum"]
    assert "`MOVEMENT_TYPE_RECEIPT`: Goods received" in kinds["description"]
    movement = schema(doc, "stockmesh.stock.v1.Movement")["properties"]
    assert movement["type"]["$ref"] == SCHEMAS + "stockmesh.stock.v1.MovementType"
    ttl = schema(doc, "stockmesh.stock.v1.Reservation")["properties"]["ttl"]
    assert re.search(ttl["pattern"], "1.5s")
    page_size = schema(doc, "stockmesh.stock.v1.ListMovementsRequest")["properties"]["pageSize"]
    assert (page_size["type"], page_size["format"]) == ("integer", "int32")
    attributes = schema(doc, "stockmesh.catalog.v1.Variant")["properties"]["attributes"]
    assert attributes["type"] == "object"
    assert attributes["additionalProperties"] == {"type": "string"}
    price = schema(doc, "stockmesh.catalog.v1.Variant")["properties"]["listPrice"]
    assert price["$ref"] == SCHEMAS + "google.type.Money"
    mask = schema(doc, "stockmesh.stock.v1.UpdateWarehouseRequest")["properties"]["updateMask"]
    assert mask["type"] == "string"
    assert re.search(mask["pattern"], "displayName,address.locality")


def test_what_the_gateway_prints_fits_the_response_schemas(doc: dict[str, Any], table: RouteTable) -> None:
    # Every response type as the gateway prints it when empty (every field without presence shown).
    for _, _, op in operations(doc):
        ok = op["responses"]["200"]["content"]
        target = ok.get("application/json", ok.get("application/x-ndjson"))["schema"]
        name = target["$ref"].removeprefix(SCHEMAS)
        message = table.contracts.message_class(table.contracts.pool.FindMessageTypeByName(name))()
        printed = json_format.MessageToDict(message, always_print_fields_with_no_presence=True)
        assert validator(doc, target).is_valid(printed), name
    # And a full one: 64-bit integers, enums, times, nested resources.
    response = table.contracts.pool.FindMessageTypeByName("stockmesh.stock.v1.CreateReservationResponse")
    message = json_format.ParseDict(
        {
            "reservation": {
                "name": "reservations/r1",
                "reference": "orders/9",
                "lines": [{"sku": "A1", "warehouse": "warehouses/w1", "quantity": "3"}],
                "state": "RESERVATION_STATE_ACTIVE",
                "expireTime": "2030-01-02T03:04:05.123Z",
                "etag": "e1",
            },
            "movements": [
                {"name": "movements/m1", "sequence": "9007199254740993", "type": "MOVEMENT_TYPE_RESERVE"}
            ],
            "stockLevels": [{"onHand": "5", "reserved": "3", "lowStock": True}],
        },
        table.contracts.message_class(response)(),
    )
    printed = json_format.MessageToDict(message, always_print_fields_with_no_presence=True)
    check = validator(doc, {"$ref": SCHEMAS + response.full_name})
    assert check.is_valid(printed), list(check.iter_errors(printed))


# Security and errors


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


# The docs page


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links += [value for name, value in attrs if name in ("src", "href") and value is not None]


@pytest.fixture
async def client(doc: dict[str, Any]) -> AsyncIterator[httpx.AsyncClient]:
    # httpx's ASGI transport, as Starlette's TestClient uses; that client warns about httpx here.
    app = Starlette(routes=docs.routes(doc))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        yield client


async def test_openapi_json_serves_the_document(client: httpx.AsyncClient, doc: dict[str, Any]) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == json.loads(json.dumps(doc))


async def test_the_docs_page_works_offline(client: httpx.AsyncClient, doc: dict[str, Any]) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert not re.search(r"https?://", page.text, re.IGNORECASE)
    links = _Links()
    links.feed(page.text)
    assert any(link.endswith("swagger-ui-bundle.js") for link in links.links)
    for link in links.links:
        resolved = urlsplit(urljoin("http://testserver/docs", link))
        assert resolved.netloc == "testserver", link
        assert resolved.path.startswith("/docs/assets/"), link
        assert (await client.get(resolved.path)).status_code == 200, link
    # The page loads the 3.1 document itself: the bundled Swagger UI (5.x) renders it.
    spec_url = re.search(r'"url": "([^"]+)"', page.text)
    assert spec_url is not None
    shown = await client.get(urlsplit(urljoin("http://testserver/docs", spec_url.group(1))).path)
    assert shown.status_code == 200
    assert shown.json()["paths"].keys() == doc["paths"].keys()
    assert shown.json()["openapi"] == "3.1.0"
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "connect-src 'self'" in policy


def test_the_bundled_swagger_ui_renders_openapi_3_1() -> None:
    script = (docs.assets() / "swagger-ui-bundle.js").read_bytes()
    version = re.search(rb'PACKAGE_VERSION:"([0-9]+)\.', script)

    assert version is not None
    assert int(version.group(1)) >= 5
