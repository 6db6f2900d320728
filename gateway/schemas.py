"""Proto messages and enums as JSON Schema (the 2020-12 dialect OpenAPI 3.1 uses), by the proto3 JSON mapping.

The schemas describe the JSON the gateway reads and prints: lowerCamelCase names, enums by value name,
64-bit integers as decimal strings, well-known types in their JSON forms. Unknown fields are refused by
the parser, so objects close with `additionalProperties: false`; the parser also takes the proto field
names (`request_id`), which the schemas leave out so that each field has one documented spelling.
"""

from __future__ import annotations

import copy
from typing import Any

from google.api import field_behavior_pb2
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor, OneofDescriptor

from gateway.descriptors import Contracts, behaviors, is_map

Schema = dict[str, Any]
REF = "#/components/schemas/"

REQUIRED: int = field_behavior_pb2.REQUIRED
OUTPUT_ONLY: int = field_behavior_pb2.OUTPUT_ONLY
INPUT_ONLY: int = field_behavior_pb2.INPUT_ONLY
# Required by the gRPC contract, but the edge fills it from `Idempotency-Key`
# or a fresh id, so over REST it may be left out.
REQUEST_ID = "request_id"
IMMUTABLE: int = field_behavior_pb2.IMMUTABLE
IDENTIFIER: int = field_behavior_pb2.IDENTIFIER

_F = FieldDescriptor
_INT64 = {"type": "string", "format": "int64", "pattern": "^-?[0-9]+$"}
_UINT64 = {"type": "string", "format": "uint64", "pattern": "^[0-9]+$"}
_INT32 = {"type": "integer", "format": "int32", "minimum": -(2**31), "maximum": 2**31 - 1}
_UINT32 = {"type": "integer", "format": "uint32", "minimum": 0, "maximum": 2**32 - 1}
# Floating-point fields print NaN and the infinities as strings; every other value is a number.
_SPECIAL = "^(NaN|-?Infinity)$"
_SCALARS: dict[int, Schema] = {
    **dict.fromkeys((_F.TYPE_INT64, _F.TYPE_SINT64, _F.TYPE_SFIXED64), _INT64),
    **dict.fromkeys((_F.TYPE_UINT64, _F.TYPE_FIXED64), _UINT64),
    **dict.fromkeys((_F.TYPE_INT32, _F.TYPE_SINT32, _F.TYPE_SFIXED32), _INT32),
    **dict.fromkeys((_F.TYPE_UINT32, _F.TYPE_FIXED32), _UINT32),
    _F.TYPE_DOUBLE: {"type": ["number", "string"], "format": "double", "pattern": _SPECIAL},
    _F.TYPE_FLOAT: {"type": ["number", "string"], "format": "float", "pattern": _SPECIAL},
    _F.TYPE_BOOL: {"type": "boolean"},
    _F.TYPE_STRING: {"type": "string"},
    _F.TYPE_BYTES: {"type": "string", "contentEncoding": "base64"},
}
# Map keys are JSON strings whatever their proto type; numeric and bool keys are spelled as in a literal.
_KEY_PATTERNS = {
    **dict.fromkeys(
        (_F.TYPE_INT64, _F.TYPE_SINT64, _F.TYPE_SFIXED64, _F.TYPE_INT32, _F.TYPE_SINT32, _F.TYPE_SFIXED32),
        "^-?[0-9]+$",
    ),
    **dict.fromkeys((_F.TYPE_UINT64, _F.TYPE_FIXED64, _F.TYPE_UINT32, _F.TYPE_FIXED32), "^[0-9]+$"),
    _F.TYPE_BOOL: "^(true|false)$",
}
_MASK_PATH = r"[a-z][A-Za-z0-9]*(\.[a-z][A-Za-z0-9]*)*"
_WELL_KNOWN: dict[str, Schema] = {
    "google.protobuf.Timestamp": {
        "type": "string",
        "format": "date-time",
        # What both the body parser and the query parser take: RFC 3339 with 'T' and a zone.
        "pattern": (
            r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$"
        ),
    },
    "google.protobuf.Duration": {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]{1,9})?s$"},
    # lowerCamelCase paths, comma-separated: the JSON mapping of a mask.
    "google.protobuf.FieldMask": {"type": "string", "pattern": f"^({_MASK_PATH}(,{_MASK_PATH})*)?$"},
    "google.protobuf.Struct": {"type": "object", "additionalProperties": True},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array", "items": {}},
    "google.protobuf.Empty": {"type": "object", "additionalProperties": False},
    "google.protobuf.Any": {
        "type": "object",
        "properties": {"@type": {"type": "string", "description": "The packed message's type URL."}},
        "required": ["@type"],
        "additionalProperties": True,
    },
}
_WRAPPERS = {
    f"google.protobuf.{name}Value": kind
    for name, kind in (
        ("Double", _F.TYPE_DOUBLE),
        ("Float", _F.TYPE_FLOAT),
        ("Int64", _F.TYPE_INT64),
        ("UInt64", _F.TYPE_UINT64),
        ("Int32", _F.TYPE_INT32),
        ("UInt32", _F.TYPE_UINT32),
        ("Bool", _F.TYPE_BOOL),
        ("String", _F.TYPE_STRING),
        ("Bytes", _F.TYPE_BYTES),
    )
}
_NOTES = {
    OUTPUT_ONLY: "Output only: set by the server, ignored in requests.",
    INPUT_ONLY: "Input only: never returned.",
    IMMUTABLE: "Immutable: set on create, never changed afterwards.",
    IDENTIFIER: "Identifier: the resource name, assigned by the server on create.",
}


def scalar_like(field: FieldDescriptor) -> bool:
    """Whether one string can set the field (query parameters): a scalar, an enum, or a well-known
    type with a string form (times, durations, masks, wrappers)."""
    message = field.message_type
    return (
        message is None
        or message.full_name in _WRAPPERS
        or (message.full_name in _WELL_KNOWN and _WELL_KNOWN[message.full_name].get("type") == "string")
    )


def real_oneof(field: FieldDescriptor) -> OneofDescriptor | None:
    """The field's oneof, unless it is the one protoc makes for a proto3 `optional` field."""
    oneof = field.containing_oneof
    if oneof is None or (len(oneof.fields) == 1 and oneof.name == f"_{field.name}"):
        return None
    return oneof


class SchemaSet:
    """Schemas of messages and enums, built on demand: `ref` records what a document refers to and
    `components` builds all of it, following references, in a stable (sorted) order."""

    def __init__(self, contracts: Contracts) -> None:
        self.contracts = contracts
        self._wanted: dict[str, Descriptor | EnumDescriptor] = {}

    def ref(self, descriptor: Descriptor | EnumDescriptor) -> Schema:
        """A reference to the component of a message or enum (well-known types are inlined)."""
        if isinstance(descriptor, Descriptor):
            inline = self._well_known(descriptor)
            if inline is not None:
                return inline
        self._wanted.setdefault(descriptor.full_name, descriptor)
        return {"$ref": REF + descriptor.full_name}

    def components(self) -> dict[str, Schema]:
        built: dict[str, Schema] = {}
        while len(built) < len(self._wanted):
            for name, descriptor in list(self._wanted.items()):
                if name not in built:
                    built[name] = (
                        self.enum(descriptor)
                        if isinstance(descriptor, EnumDescriptor)
                        else self.message(descriptor)
                    )
        return dict(sorted(built.items()))

    def message(self, descriptor: Descriptor, *, omit: frozenset[str] = frozenset()) -> Schema:
        """The object schema of a message, less the fields named (proto names) in `omit`."""
        properties: dict[str, Schema] = {}
        required: list[str] = []
        for field in descriptor.fields:
            if field.name in omit:
                continue
            properties[field.json_name] = self.field(field)
            if REQUIRED in behaviors(field) and real_oneof(field) is None and field.name != REQUEST_ID:
                required.append(field.json_name)
        schema: Schema = {"type": "object", "title": _title(descriptor)}
        description = self.contracts.comment(descriptor)
        if description:
            schema["description"] = description
        schema["properties"] = properties
        if required:
            schema["required"] = required
        schema["additionalProperties"] = False
        # The parser refuses two members of one oneof in the same object.
        pairs = [
            {"required": [first.json_name, second.json_name]}
            for oneof in descriptor.oneofs
            for i, first in enumerate(oneof.fields)
            for second in oneof.fields[i + 1 :]
            if real_oneof(first) is not None and first.name not in omit and second.name not in omit
        ]
        if pairs:
            schema["not"] = pairs[0] if len(pairs) == 1 else {"anyOf": pairs}
        return schema

    def enum(self, descriptor: EnumDescriptor) -> Schema:
        lines = [self.contracts.comment(descriptor)] if self.contracts.comment(descriptor) else []
        values = []
        for value in descriptor.values:
            text = self.contracts.comment(value).replace("\n", " ")
            values.append(f"- `{value.name}`" + (f": {text}" if text else ""))
        lines.append("\n".join(values))
        return {
            "type": "string",
            "title": _title(descriptor),
            "description": "\n\n".join(lines),
            "enum": [value.name for value in descriptor.values],
        }

    def field(self, field: FieldDescriptor) -> Schema:
        """A property: the field's value schema with its comment, behaviours and oneof noted."""
        schema = self.value(field)
        found = behaviors(field)
        notes = [self.contracts.comment(field)] + [note for kind, note in _NOTES.items() if kind in found]
        oneof = real_oneof(field)
        if oneof is not None:
            members = ", ".join(f"`{member.json_name}`" for member in oneof.fields)
            notes.append(f"At most one of {members} (oneof `{oneof.name}`).")
        text = "\n\n".join(note for note in notes if note)
        if text:
            schema["description"] = text
        if OUTPUT_ONLY in found:
            schema["readOnly"] = True
        if INPUT_ONLY in found:
            schema["writeOnly"] = True
        if field.GetOptions().deprecated:
            schema["deprecated"] = True
        return schema

    def value(self, field: FieldDescriptor) -> Schema:
        """The schema of a field's JSON value: an array for repeated fields, an object for maps."""
        if is_map(field):
            entry = field.message_type
            assert entry is not None
            key, value = entry.fields_by_name["key"], entry.fields_by_name["value"]
            schema: Schema = {"type": "object", "additionalProperties": self.single(value)}
            pattern = _KEY_PATTERNS.get(key.type)
            if pattern is not None:
                schema["propertyNames"] = {"pattern": pattern}
            return schema
        if field.is_repeated:
            return {"type": "array", "items": self.single(field)}
        return self.single(field)

    def single(self, field: FieldDescriptor) -> Schema:
        """The schema of one value of the field, ignoring whether it repeats."""
        if field.message_type is not None:
            return self.ref(field.message_type)
        if field.enum_type is not None:
            return self.ref(field.enum_type)
        return copy.deepcopy(_SCALARS[field.type])

    def _well_known(self, descriptor: Descriptor) -> Schema | None:
        name = descriptor.full_name
        if name in _WELL_KNOWN:
            return copy.deepcopy(_WELL_KNOWN[name])
        kind = _WRAPPERS.get(name)
        if kind is None:
            return None
        # A wrapper prints as its bare value, and null clears it.
        schema = copy.deepcopy(_SCALARS[kind])
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        schema["type"] = [*types, "null"]
        return schema


def _title(descriptor: Descriptor | EnumDescriptor) -> str:
    package = descriptor.file.package
    return descriptor.full_name[len(package) + 1 :] if package else descriptor.full_name
