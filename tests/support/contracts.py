"""Descriptor sets the gateway has never seen: a small `stockmesh.widget.v1`
contract built in code, with whatever HTTP rules a test gives it."""

from __future__ import annotations

from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pb2

from gateway.settings import bundled_descriptors

PACKAGE = "stockmesh.widget.v1"
SERVICE = "WidgetService"
FILE = "stockmesh/widget/v1/widget.proto"
_DEPENDENCIES = ("google/protobuf/descriptor.proto", "google/api/http.proto", "google/api/annotations.proto")
_F = descriptor_pb2.FieldDescriptorProto


def widget_set(
    rules: dict[str, http_pb2.HttpRule], *, streaming: tuple[str, ...] = (), public: tuple[str, ...] = ()
) -> descriptor_pb2.FileDescriptorSet:
    """A set with the googleapis files the rules need and one service whose
    methods (named by `rules`) take a `Widget`-shaped request."""
    bundled = descriptor_pb2.FileDescriptorSet.FromString(bundled_descriptors().read_bytes())
    files = [f for name in _DEPENDENCIES for f in bundled.file if f.name == name]
    proto = descriptor_pb2.FileDescriptorProto(
        name=FILE, package=PACKAGE, syntax="proto3", dependency=["google/api/annotations.proto"]
    )
    widget = f".{PACKAGE}.Widget"
    proto.message_type.add(
        name="Widget",
        field=[_field("name", 1), _field("color", 2), _field("size", 3, _F.TYPE_INT64), _field("etag", 4)],
    )
    proto.message_type.add(
        name="WidgetRequest",
        field=[
            _field("name", 1),
            _field("widget", 2, _F.TYPE_MESSAGE, type_name=widget),
            _field("request_id", 3, json_name="requestId"),
            _field("tags", 4, label=_F.LABEL_REPEATED),
        ],
    )
    proto.message_type.add(
        name="WidgetResponse",
        field=[_field("widget", 1, _F.TYPE_MESSAGE, type_name=widget), _field("echo", 2)],
    )
    service = proto.service.add(name=SERVICE)
    info = proto.source_code_info
    for index, (name, rule) in enumerate(rules.items()):
        method = service.method.add(
            name=name,
            input_type=f".{PACKAGE}.WidgetRequest",
            output_type=f".{PACKAGE}.WidgetResponse",
            server_streaming=name in streaming,
        )
        method.options.Extensions[annotations_pb2.http].CopyFrom(rule)
        comment = " Roles: none: public.\n" if name in public else " Roles: admin.\n"
        info.location.add(path=[6, 0, 2, index], span=[0, 0, 0], leading_comments=comment)
    return descriptor_pb2.FileDescriptorSet(file=[*files, proto])


def _field(
    name: str,
    number: int,
    kind: int = _F.TYPE_STRING,
    *,
    label: int = _F.LABEL_OPTIONAL,
    type_name: str = "",
    json_name: str = "",
) -> descriptor_pb2.FieldDescriptorProto:
    field = _F(name=name, number=number, type=kind, label=label, json_name=json_name or name)
    if type_name:  # set even when empty, it would make the field a message reference
        field.type_name = type_name
    return field
