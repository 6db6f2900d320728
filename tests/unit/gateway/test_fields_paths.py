"""Field paths and their errors: a path resolves by proto or JSON names, an unknown
path or one through a repeated field, a map or a well-known type is refused as
written, and a refusal is a FieldError (a ValueError) that cuts a long value short."""

from __future__ import annotations

import pytest

from gateway.fields import FieldError, resolve
from stockmesh.catalog.v1 import catalog_pb2
from stockmesh.stock.v1 import stock_pb2
from tests.support.fields import Kinds, refusal


def test_a_path_resolves_by_proto_names_or_json_names() -> None:
    descriptor = stock_pb2.UpdateWarehouseRequest.DESCRIPTOR
    by_proto = resolve(descriptor, "warehouse.address.postal_code")

    assert [field.name for field in by_proto] == ["warehouse", "address", "postal_code"]
    assert resolve(descriptor, "warehouse.address.postalCode") == by_proto
    assert resolve(descriptor, "warehouse.address.postal_code") == by_proto


@pytest.mark.parametrize(
    ("path", "description"),
    [
        ("nope", "no such field"),
        ("warehouse.nope", "no such field"),
        ("", "no such field"),
        ("warehouse.", "no such field"),
        ("Warehouse", "no such field"),
        ("warehouse.display-name", "no such field"),
        ("requestId.length", "no such field: request_id has no subfields"),
        ("updateMask.paths", "no such field: update_mask is a google.protobuf.FieldMask, set as a whole"),
    ],
)
def test_an_unknown_path_is_refused_naming_it_as_written(path: str, description: str) -> None:
    with pytest.raises(FieldError) as refused:
        resolve(stock_pb2.UpdateWarehouseRequest.DESCRIPTOR, path)

    assert (refused.value.field, refused.value.description) == (path, description)


def test_a_path_cannot_go_through_a_repeated_field() -> None:
    with pytest.raises(FieldError) as refused:
        resolve(stock_pb2.ReceiveStockRequest.DESCRIPTOR, "lines.sku")

    assert refused.value.description == "no such field: lines is repeated"


def test_a_path_cannot_go_through_a_map() -> None:
    with pytest.raises(FieldError) as refused:
        resolve(catalog_pb2.UpdateVariantRequest.DESCRIPTOR, "variant.attributes.color")

    assert refused.value.description == "no such field: attributes is a map"


def test_a_path_cannot_go_into_a_well_known_type() -> None:
    with pytest.raises(FieldError) as refused:
        resolve(stock_pb2.ListMovementsRequest.DESCRIPTOR, "startTime.seconds")

    assert refused.value.field == "startTime.seconds"
    assert refused.value.description.startswith("no such field: start_time is a google.protobuf.Timestamp")


def test_a_long_refused_value_is_echoed_cut_short() -> None:
    refused = refusal(Kinds(), "boolValue", "x" * 1000)

    assert refused.description == f"expected true or false, got {'x' * 40 + '…'!r}"


def test_a_field_error_is_a_value_error() -> None:
    assert issubclass(FieldError, ValueError)
