"""Specifications of setting request fields from strings: path variables and query parameters."""

from __future__ import annotations

import math
from typing import Any

import pytest
from google.protobuf import (
    descriptor_pb2,
    descriptor_pool,
    duration_pb2,
    message_factory,
    struct_pb2,
    timestamp_pb2,
    wrappers_pb2,
)
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message

from gateway.fields import FieldError, apply_query, resolve, set_from_string
from stockmesh.catalog.v1 import catalog_pb2
from stockmesh.stock.v1 import stock_pb2

_F = descriptor_pb2.FieldDescriptorProto


def kinds_class() -> Any:
    """A message with a field of every kind the contracts lack, in its own descriptor pool."""
    pool = descriptor_pool.DescriptorPool()
    for well_known in (duration_pb2, struct_pb2, timestamp_pb2, wrappers_pb2):
        pool.AddSerializedFile(well_known.DESCRIPTOR.serialized_pb)
    file = descriptor_pb2.FileDescriptorProto(
        name="gateway_spec/kinds.proto",
        package="gateway_spec",
        syntax="proto3",
        dependency=[m.DESCRIPTOR.name for m in (duration_pb2, struct_pb2, timestamp_pb2, wrappers_pb2)],
    )
    kinds = file.message_type.add(name="Kinds")
    kinds.oneof_decl.add(name="_maybe_count")

    def add(name: str, kind: int, type_name: str = "", *, repeated: bool = False) -> _F:
        field = kinds.field.add(name=name, number=len(kinds.field) + 1, type=kind, json_name=camel(name))
        if type_name:
            field.type_name = type_name
        if repeated:
            field.label = _F.LABEL_REPEATED
        return field

    integers = "int32 int64 uint32 uint64 sint32 sint64 fixed32 fixed64 sfixed32 sfixed64"
    for kind_name in [*integers.split(), "float", "double", "bool", "string", "bytes"]:
        add(f"{kind_name}_value", getattr(_F, f"TYPE_{kind_name.upper()}"))
    for name, message_name in [
        ("int32_wrapper", "Int32Value"),
        ("uint64_wrapper", "UInt64Value"),
        ("double_wrapper", "DoubleValue"),
        ("bool_wrapper", "BoolValue"),
        ("string_wrapper", "StringValue"),
        ("bytes_wrapper", "BytesValue"),
        ("struct", "Struct"),
        ("wait", "Duration"),
    ]:
        add(name, _F.TYPE_MESSAGE, f".google.protobuf.{message_name}")
    add("lucky_numbers", _F.TYPE_INT32, repeated=True)
    add("times", _F.TYPE_MESSAGE, ".google.protobuf.Timestamp", repeated=True)
    add("labels", _F.TYPE_MESSAGE, ".google.protobuf.StringValue", repeated=True)
    optional = add("maybe_count", _F.TYPE_INT32)
    optional.oneof_index = 0
    optional.proto3_optional = True
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("gateway_spec.Kinds"))


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


Kinds = kinds_class()


def set_field(message: Message, path: str, *values: str) -> None:
    set_from_string(message, resolve(descriptor_of(message), path), list(values))


def descriptor_of(message: Message) -> Descriptor:
    descriptor = message.DESCRIPTOR
    assert isinstance(descriptor, Descriptor)
    return descriptor


def refusal(message: Message, path: str, *values: str) -> FieldError:
    with pytest.raises(FieldError) as refused:
        set_field(message, path, *values)
    return refused.value


# Resolving a path


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


# Scalars


@pytest.mark.parametrize(
    ("path", "text", "value"),
    [
        ("int32_value", "-2147483648", -(2**31)),
        ("int32_value", "2147483647", 2**31 - 1),
        ("int32_value", "007", 7),
        ("int64_value", "-9223372036854775808", -(2**63)),
        ("int64_value", "9223372036854775807", 2**63 - 1),
        ("uint32_value", "4294967295", 2**32 - 1),
        ("uint64_value", "18446744073709551615", 2**64 - 1),
        ("sint32_value", "-5", -5),
        ("sint64_value", "-5", -5),
        ("fixed32_value", "5", 5),
        ("fixed64_value", "18446744073709551615", 2**64 - 1),
        ("sfixed32_value", "-5", -5),
        ("sfixed64_value", "-9223372036854775808", -(2**63)),
    ],
)
def test_an_integer_is_decimal_within_its_types_range(path: str, text: str, value: int) -> None:
    message = Kinds()
    set_field(message, path, text)

    assert getattr(message, path) == value


@pytest.mark.parametrize(
    ("path", "text", "low", "high"),
    [
        ("int32_value", "2147483648", -(2**31), 2**31 - 1),
        ("uint32_value", "-1", 0, 2**32 - 1),
        ("int64_value", "9223372036854775808", -(2**63), 2**63 - 1),
        ("uint64_value", "18446744073709551616", 0, 2**64 - 1),
        ("int32_value", "abc", -(2**31), 2**31 - 1),
        ("int32_value", "1.5", -(2**31), 2**31 - 1),
        ("int32_value", "1e3", -(2**31), 2**31 - 1),
        ("int32_value", " 1", -(2**31), 2**31 - 1),
        ("int32_value", "+1", -(2**31), 2**31 - 1),
        ("int32_value", "1_000", -(2**31), 2**31 - 1),
        ("int32_value", "0x10", -(2**31), 2**31 - 1),
        ("int32_value", "", -(2**31), 2**31 - 1),
        ("int64_value", "9" * 5000, -(2**63), 2**63 - 1),
    ],
)
def test_anything_else_is_refused_saying_what_integer_was_expected(
    path: str, text: str, low: int, high: int
) -> None:
    refused = refusal(Kinds(), path, text)

    assert refused.field == path
    assert refused.description.startswith(f"expected an integer from {low} to {high}, got ")


@pytest.mark.parametrize(
    ("path", "text", "value"),
    [
        ("double_value", "1.5", 1.5),
        ("double_value", "-2e3", -2000.0),
        ("double_value", ".5", 0.5),
        ("double_value", "7", 7.0),
        ("double_value", "Infinity", math.inf),
        ("double_value", "-Infinity", -math.inf),
        ("float_value", "0.25", 0.25),
        ("float_value", "-Infinity", -math.inf),
    ],
)
def test_a_number_is_decimal_or_a_json_special_value(path: str, text: str, value: float) -> None:
    message = Kinds()
    set_field(message, path, text)

    assert getattr(message, path) == value


def test_nan_is_a_number() -> None:
    message = Kinds()
    set_field(message, "doubleValue", "NaN")

    assert math.isnan(message.double_value)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("double_value", "inf"),
        ("double_value", "nan"),
        ("double_value", "1e999"),
        ("double_value", "1,5"),
        ("double_value", ""),
        ("double_value", "0x1p3"),
        ("float_value", "1e39"),
    ],
)
def test_a_number_out_of_range_or_in_another_spelling_is_refused(path: str, text: str) -> None:
    assert "number, NaN, Infinity or -Infinity" in refusal(Kinds(), path, text).description


def test_a_bool_is_true_or_false() -> None:
    message = Kinds()
    set_field(message, "boolValue", "true")

    assert message.bool_value is True
    for text in ("1", "True", "yes", ""):
        assert refusal(Kinds(), "boolValue", text).description == f"expected true or false, got {text!r}"


def test_a_string_is_taken_as_it_is() -> None:
    message = Kinds()
    set_field(message, "stringValue", " a,b=c ")

    assert message.string_value == " a,b=c "


def test_a_string_that_is_not_utf_8_is_refused() -> None:
    undecodable = b"caf\xe9".decode(errors="surrogateescape")

    assert refusal(Kinds(), "stringValue", undecodable).description == "expected UTF-8 text"


@pytest.mark.parametrize("text", ["+/8=", "+/8", "-_8=", "-_8"])
def test_bytes_are_standard_or_url_safe_base64_padded_or_not(text: str) -> None:
    message = Kinds()
    set_field(message, "bytesValue", text)

    assert message.bytes_value == b"\xfb\xff"


@pytest.mark.parametrize("text", ["a", "+/8==", "+/8 ", "ab$c", "=", "YQ="])
def test_anything_but_base64_is_refused_for_bytes(text: str) -> None:
    assert refusal(Kinds(), "bytesValue", text).description.startswith("expected base64")


# Enums


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


# Repetition


def test_a_repeated_field_takes_every_value_in_order() -> None:
    message = stock_pb2.WatchStockLevelsRequest()
    set_field(message, "skus", "b", "a", "b")

    assert list(message.skus) == ["b", "a", "b"]


def test_a_singular_field_given_more_than_once_is_refused() -> None:
    refused = refusal(stock_pb2.WatchStockLevelsRequest(), "cursor", "a", "b")

    assert (refused.field, refused.description) == ("cursor", "given more than once")


def test_a_singular_field_given_no_value_is_refused() -> None:
    assert refusal(stock_pb2.WatchStockLevelsRequest(), "cursor").description == "given no value"


# Nesting and presence


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


# Well-known types


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


def test_a_message_that_is_not_a_well_known_type_cannot_be_set_from_a_string() -> None:
    refused = refusal(stock_pb2.UpdateWarehouseRequest(), "warehouse", "x")

    assert (
        refused.description
        == "a stockmesh.stock.v1.Warehouse cannot be set from a string; set its fields instead"
    )
    assert "cannot be set from a string" in refusal(stock_pb2.ReceiveStockRequest(), "lines", "x").description


def test_a_well_known_type_without_a_string_form_cannot_be_set_from_a_string() -> None:
    assert (
        refusal(Kinds(), "struct", "{}").description == "a google.protobuf.Struct cannot be set from a string"
    )


def test_a_map_cannot_be_set_from_a_string() -> None:
    refused = refusal(catalog_pb2.UpdateVariantRequest(), "variant.attributes", "color=red")

    assert refused.description == "a map cannot be set from a string"


def test_a_long_refused_value_is_echoed_cut_short() -> None:
    refused = refusal(Kinds(), "boolValue", "x" * 1000)

    assert refused.description == f"expected true or false, got {'x' * 40 + '…'!r}"


def test_a_field_error_is_a_value_error() -> None:
    assert issubclass(FieldError, ValueError)


# The query string


def test_the_query_sets_each_key_with_all_of_its_values_in_order() -> None:
    message = stock_pb2.WatchStockLevelsRequest()
    items = [("skus", "b"), ("cursor", "c1"), ("skus", "a"), ("sendInitialLevels", "true")]

    apply_query(message, items, bound={("parent",)})

    assert list(message.skus) == ["b", "a"]
    assert (message.cursor, message.send_initial_levels, message.parent) == ("c1", True, "")


def test_the_query_sets_every_kind_of_field_of_a_real_request() -> None:
    message = stock_pb2.ListMovementsRequest()
    items = [
        ("pageSize", "20"),
        ("types", "MOVEMENT_TYPE_RECEIPT"),
        ("start_time", "2025-01-31T12:00:00Z"),
        ("types", "MOVEMENT_TYPE_ADJUSTMENT"),
        ("afterSequence", "9007199254740993"),
        ("newestFirst", "true"),
    ]

    apply_query(message, items, bound=set())

    assert message.page_size == 20
    assert list(message.types) == [stock_pb2.MOVEMENT_TYPE_RECEIPT, stock_pb2.MOVEMENT_TYPE_ADJUSTMENT]
    assert message.start_time.seconds == 1738324800
    assert message.after_sequence == 9007199254740993
    assert message.newest_first is True


def test_both_spellings_of_a_repeated_field_add_up() -> None:
    message = Kinds()
    apply_query(message, [("luckyNumbers", "1"), ("lucky_numbers", "2"), ("luckyNumbers", "3")], bound=set())

    assert list(message.lucky_numbers) == [1, 2, 3]


def test_both_spellings_of_a_singular_field_are_one_field_given_twice() -> None:
    with pytest.raises(FieldError) as refused:
        apply_query(stock_pb2.ListMovementsRequest(), [("pageSize", "1"), ("page_size", "2")], bound=set())

    assert (refused.value.field, refused.value.description) == ("pageSize", "given more than once")


def test_an_unknown_key_is_refused_by_name_and_nothing_is_set() -> None:
    message = stock_pb2.ListMovementsRequest()

    with pytest.raises(FieldError) as refused:
        apply_query(message, [("pageSize", "5"), ("pageSise", "5")], bound=set())

    assert (refused.value.field, refused.value.description) == ("pageSise", "no such field")
    assert message.page_size == 0


def test_a_refused_value_names_the_key_as_the_client_wrote_it() -> None:
    with pytest.raises(FieldError) as refused:
        apply_query(stock_pb2.ListMovementsRequest(), [("pageSize", "abc")], bound=set())

    assert refused.value.field == "pageSize"
    assert refused.value.description == "expected an integer from -2147483648 to 2147483647, got 'abc'"


@pytest.mark.parametrize(
    ("key", "bound"),
    [
        ("parent", {("parent",)}),
        ("warehouse.displayName", {("warehouse",)}),
        ("warehouse", {("warehouse", "name")}),
        ("requestId", {()}),
    ],
    ids=[
        "the-bound-field",
        "inside-a-bound-message",
        "containing-a-bound-field",
        "with-the-whole-body-bound",
    ],
)
def test_a_field_the_path_or_body_sets_is_refused_from_the_query(
    key: str, bound: set[tuple[str, ...]]
) -> None:
    message = stock_pb2.UpdateWarehouseRequest() if key != "parent" else stock_pb2.WatchStockLevelsRequest()

    with pytest.raises(FieldError) as refused:
        apply_query(message, [(key, "x")], bound=bound)

    assert (refused.value.field, refused.value.description) == (
        key,
        "set by the path or the body, not the query",
    )


def test_a_sibling_of_a_bound_field_may_come_from_the_query() -> None:
    message = stock_pb2.UpdateWarehouseRequest()

    apply_query(message, [("warehouse.etag", "e1")], bound={("warehouse", "name")})

    assert message.warehouse.etag == "e1"


def test_two_members_of_one_oneof_are_refused() -> None:
    message = stock_pb2.ExtendReservationRequest()
    items = [("ttl", "60s"), ("expireTime", "2025-01-31T12:00:00Z")]

    with pytest.raises(FieldError) as refused:
        apply_query(message, items, bound=set())

    assert refused.value.field == "expireTime"
    assert refused.value.description == "expiration is already set by ttl; give only one of them"


def test_an_empty_query_sets_nothing() -> None:
    message = stock_pb2.ListMovementsRequest()
    apply_query(message, [], bound={()})

    assert message == stock_pb2.ListMovementsRequest()
