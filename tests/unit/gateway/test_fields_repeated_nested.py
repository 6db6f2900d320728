"""Repeated, nested and optional fields: a repeated field takes every value in
order and a singular one exactly one; a nested path creates the messages on its
way and all-or-nothing; proto3 optional fields have presence; a message or map
field cannot be set from a string."""

from __future__ import annotations

from stockmesh.catalog.v1 import catalog_pb2
from stockmesh.stock.v1 import stock_pb2
from tests.support.fields import Kinds, refusal, set_field


def test_a_repeated_field_takes_every_value_in_order() -> None:
    message = stock_pb2.WatchStockLevelsRequest()
    set_field(message, "skus", "b", "a", "b")

    assert list(message.skus) == ["b", "a", "b"]


def test_a_singular_field_given_more_than_once_is_refused() -> None:
    refused = refusal(stock_pb2.WatchStockLevelsRequest(), "cursor", "a", "b")

    assert (refused.field, refused.description) == ("cursor", "given more than once")


def test_a_singular_field_given_no_value_is_refused() -> None:
    assert refusal(stock_pb2.WatchStockLevelsRequest(), "cursor").description == "given no value"


def test_a_nested_field_creates_the_messages_on_its_way() -> None:
    message = stock_pb2.UpdateWarehouseRequest()
    set_field(message, "warehouse.address.postalCode", "")

    assert message.HasField("warehouse")
    assert message.warehouse.HasField("address")


def test_an_error_names_the_field_by_its_proto_path() -> None:
    refused = refusal(stock_pb2.UpdateWarehouseRequest(), "warehouse.address.postalCode", "a", "b")

    assert refused.field == "warehouse.address.postal_code"


def test_a_refused_value_leaves_the_message_untouched() -> None:
    message = stock_pb2.UpdateWarehouseRequest()
    refusal(message, "warehouse.status", "NOT_A_STATUS")

    assert not message.HasField("warehouse")


def test_a_proto3_optional_field_is_present_even_at_zero() -> None:
    message = Kinds()
    set_field(message, "maybeCount", "0")

    assert message.HasField("maybe_count")


def test_a_message_that_is_not_a_well_known_type_cannot_be_set_from_a_string() -> None:
    refused = refusal(stock_pb2.UpdateWarehouseRequest(), "warehouse", "x")

    assert (
        refused.description
        == "a stockmesh.stock.v1.Warehouse cannot be set from a string; set its fields instead"
    )
    assert "cannot be set from a string" in refusal(stock_pb2.ReceiveStockRequest(), "lines", "x").description


def test_a_map_cannot_be_set_from_a_string() -> None:
    refused = refusal(catalog_pb2.UpdateVariantRequest(), "variant.attributes", "color=red")

    assert refused.description == "a map cannot be set from a string"
