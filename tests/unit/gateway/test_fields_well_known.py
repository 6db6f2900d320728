"""Setting enums and well-known types from a string: an enum by value name or
number; a Timestamp in RFC 3339, a Duration in seconds ending in 's', a FieldMask
as comma-separated paths, a wrapper as its value (present even at the default),
repeated and in another descriptor pool too; a Struct has no string form."""

from __future__ import annotations

import math

import pytest
from google.protobuf import duration_pb2, timestamp_pb2

from gateway.fields import resolve
from stockmesh.stock.v1 import stock_pb2
from tests.support.fields import Kinds, descriptor_of, refusal, set_field


def test_an_enum_is_set_by_its_value_name_or_number() -> None:
    message = stock_pb2.ListWarehousesRequest()

    set_field(message, "status", "WAREHOUSE_STATUS_ARCHIVED")
    assert message.status == stock_pb2.WAREHOUSE_STATUS_ARCHIVED
    set_field(message, "status", "1")
    assert message.status == stock_pb2.WAREHOUSE_STATUS_ACTIVE


@pytest.mark.parametrize("text", ["ACTIVE", "warehouse_status_active", "99", "-1", "1.0", ""])
def test_an_unknown_enum_value_is_refused_without_listing_the_values(text: str) -> None:
    refused = refusal(stock_pb2.ListWarehousesRequest(), "status", text)

    assert (
        refused.description
        == f"expected a stockmesh.stock.v1.WarehouseStatus value name or number, got {text!r}"
    )


def test_a_repeated_enum_takes_names_and_numbers_in_order() -> None:
    message = stock_pb2.ListMovementsRequest()
    set_field(message, "types", "MOVEMENT_TYPE_RECEIPT", "2")

    assert list(message.types) == [stock_pb2.MOVEMENT_TYPE_RECEIPT, stock_pb2.MOVEMENT_TYPE_ADJUSTMENT]


def test_a_timestamp_is_rfc_3339() -> None:
    message = stock_pb2.ListMovementsRequest()
    set_field(message, "startTime", "2025-01-31T12:00:00Z")
    set_field(message, "end_time", "2025-01-31T13:30:00.5+01:30")

    assert message.start_time == timestamp_pb2.Timestamp(seconds=1738324800)
    assert message.end_time == timestamp_pb2.Timestamp(seconds=1738324800, nanos=500_000_000)


@pytest.mark.parametrize(
    "text",
    [
        "2025-01-31",
        "yesterday",
        "2025-02-30T00:00:00Z",
        "2025-01-31t12:00:00z",
        "2025-01-31 12:00:00Z",
        "1738324800",
    ],
)
def test_anything_but_an_rfc_3339_time_is_refused_for_a_timestamp(text: str) -> None:
    refused = refusal(stock_pb2.ListMovementsRequest(), "startTime", text)

    assert refused.description == f"expected an RFC 3339 time such as 2025-01-31T12:00:00Z, got {text!r}"


def test_a_duration_is_seconds_ending_in_s_and_sets_its_oneof() -> None:
    message = stock_pb2.ExtendReservationRequest()
    set_field(message, "ttl", "1.5s")

    assert message.ttl == duration_pb2.Duration(seconds=1, nanos=500_000_000)
    assert message.WhichOneof("expiration") == "ttl"


def test_a_zero_duration_is_still_present() -> None:
    message = stock_pb2.ExtendReservationRequest()
    set_field(message, "ttl", "0s")

    assert message.WhichOneof("expiration") == "ttl"


@pytest.mark.parametrize("text", ["1.5", "1m", "1.0000000001s", "+1s", " 1s", "s", "315576000001s"])
def test_anything_else_is_refused_for_a_duration(text: str) -> None:
    refused = refusal(stock_pb2.ExtendReservationRequest(), "ttl", text)

    assert refused.description == f"expected seconds ending in 's' such as 1.5s, got {text!r}"


def test_a_field_mask_holds_snake_case_paths_whichever_spelling_was_given() -> None:
    message = stock_pb2.UpdateWarehouseRequest()
    set_field(message, "updateMask", "displayName,address.postalCode,address.address_lines")

    assert list(message.update_mask.paths) == ["display_name", "address.postal_code", "address.address_lines"]


def test_an_empty_field_mask_is_present_and_empty() -> None:
    message = stock_pb2.UpdateWarehouseRequest()
    set_field(message, "update_mask", "")

    assert message.HasField("update_mask")
    assert list(message.update_mask.paths) == []


@pytest.mark.parametrize("text", ["a,,b", "a,", "DisplayName", "display_Name", "a b", "a..b", "a.", "1a"])
def test_a_malformed_field_mask_is_refused(text: str) -> None:
    refused = refusal(stock_pb2.UpdateWarehouseRequest(), "updateMask", text)

    assert refused.description == f"expected comma-separated field paths, got {text!r}"


@pytest.mark.parametrize(
    ("path", "text", "value"),
    [
        ("int32Wrapper", "0", 0),
        ("uint64Wrapper", "18446744073709551615", 2**64 - 1),
        ("doubleWrapper", "-Infinity", -math.inf),
        ("boolWrapper", "false", False),
        ("stringWrapper", "", ""),
        ("bytesWrapper", "-_8", b"\xfb\xff"),
    ],
)
def test_a_wrapper_is_present_and_holds_its_value_even_the_default(
    path: str, text: str, value: object
) -> None:
    message = Kinds()
    set_field(message, path, text)

    wrapper = resolve(descriptor_of(message), path)[0].name
    assert message.HasField(wrapper)
    assert getattr(message, wrapper).value == value


def test_a_wrapper_refuses_what_its_value_type_refuses() -> None:
    refused = refusal(Kinds(), "int32Wrapper", "abc")

    assert refused.description == "expected an integer from -2147483648 to 2147483647, got 'abc'"


def test_repeated_well_known_types_take_every_value() -> None:
    message = Kinds()
    set_field(message, "times", "1970-01-01T00:00:01Z", "1970-01-01T00:00:02Z")
    set_field(message, "labels", "a", "")

    assert [time.seconds for time in message.times] == [1, 2]
    assert [label.value for label in message.labels] == ["a", ""]


def test_well_known_types_of_another_descriptor_pool_are_set_too() -> None:
    message = Kinds()
    set_field(message, "wait", "2s")

    assert message.wait.seconds == 2


def test_a_well_known_type_without_a_string_form_cannot_be_set_from_a_string() -> None:
    assert (
        refusal(Kinds(), "struct", "{}").description == "a google.protobuf.Struct cannot be set from a string"
    )
