"""The OpenAPI schemas: proto comments become summaries and descriptions, field
behaviour becomes required, read-only and write-only, types follow the proto3 JSON
mapping, and what the gateway prints fits them."""

from __future__ import annotations

import re
from typing import Any

from google.protobuf import json_format

from gateway.routes import RouteTable
from tests.support.openapi import SCHEMAS, operation, operations, validator


def schema(doc: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = doc["components"]["schemas"][name]
    return found


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
