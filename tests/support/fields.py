"""Helpers of the gateway's field-setting specifications: `Kinds`, a message with
a field of every kind the contracts lack, and setting a field from strings or
catching its refusal."""

from __future__ import annotations

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

from gateway.fields import FieldError, resolve, set_from_string

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
