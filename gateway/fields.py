"""Setting request-message fields from strings, path variables and query parameters, by the proto3 JSON
mapping."""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import math
import re
from collections.abc import Callable

from google.protobuf import duration_pb2, field_mask_pb2, timestamp_pb2, wrappers_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

_INTEGER = re.compile(r"-?[0-9]+")
_NUMBER = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]*")
_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?:Z|[+-][0-9]{2}:[0-9]{2})"
)
_DURATION = re.compile(r"-?[0-9]+(?:\.[0-9]{1,9})?s")
_MASK_PATH = re.compile(r"(?:[a-z][a-z0-9_]*|[a-z][A-Za-z0-9]*)(?:\.(?:[a-z][a-z0-9_]*|[a-z][A-Za-z0-9]*))*")
_FLOAT_MAX = 3.4028234663852886e38
_WKT = "google.protobuf."

_FD = FieldDescriptor
_INTEGER_RANGES = {
    **dict.fromkeys((_FD.TYPE_INT32, _FD.TYPE_SINT32, _FD.TYPE_SFIXED32), (-(2**31), 2**31 - 1)),
    **dict.fromkeys((_FD.TYPE_UINT32, _FD.TYPE_FIXED32), (0, 2**32 - 1)),
    **dict.fromkeys((_FD.TYPE_INT64, _FD.TYPE_SINT64, _FD.TYPE_SFIXED64), (-(2**63), 2**63 - 1)),
    **dict.fromkeys((_FD.TYPE_UINT64, _FD.TYPE_FIXED64), (0, 2**64 - 1)),
}
_WRAPPERS: dict[str, Callable[..., Message]] = {
    wrapper.DESCRIPTOR.full_name: wrapper
    for wrapper in (
        wrappers_pb2.DoubleValue,
        wrappers_pb2.FloatValue,
        wrappers_pb2.Int64Value,
        wrappers_pb2.UInt64Value,
        wrappers_pb2.Int32Value,
        wrappers_pb2.UInt32Value,
        wrappers_pb2.BoolValue,
        wrappers_pb2.StringValue,
        wrappers_pb2.BytesValue,
    )
}

_Scalar = int | float | bool | str | bytes


class FieldError(ValueError):
    """A field that cannot be set as asked: `field` as the client spelled it, `description` says why."""

    def __init__(self, field: str, description: str) -> None:
        super().__init__(f"{field}: {description}")
        self.field = field
        self.description = description


def resolve(descriptor: Descriptor, path: str) -> tuple[FieldDescriptor, ...]:
    """The fields along a dotted path whose parts are proto names (page_size) or JSON names (pageSize).

    Only singular messages other than well-known types can be walked through: a repeated field, a map
    or a well-known type has no subfield a string could set.
    """
    fields: list[FieldDescriptor] = []
    current = descriptor
    for part in path.split("."):
        if fields:
            current = _subfields_of(fields[-1], path)
        field = current.fields_by_name.get(part) or _json_names(current).get(part)
        if field is None:
            raise FieldError(path, "no such field")
        fields.append(field)
    return tuple(fields)


def _subfields_of(field: FieldDescriptor, path: str) -> Descriptor:
    message_type = field.message_type
    if message_type is None:
        raise FieldError(path, f"no such field: {field.name} has no subfields")
    if message_type.GetOptions().map_entry:
        raise FieldError(path, f"no such field: {field.name} is a map")
    if field.is_repeated:
        raise FieldError(path, f"no such field: {field.name} is repeated")
    if message_type.full_name.startswith(_WKT):
        raise FieldError(path, f"no such field: {field.name} is a {message_type.full_name}, set as a whole")
    return message_type


@functools.cache
def _json_names(descriptor: Descriptor) -> dict[str, FieldDescriptor]:
    return {field.json_name: field for field in descriptor.fields}


def set_from_string(message: Message, path: tuple[FieldDescriptor, ...], values: list[str]) -> None:
    """Sets the field at `path` (as `resolve` returns it) from its string forms, creating the messages on
    the way. A repeated field appends every value; any other field takes exactly one."""
    field = path[-1]
    name = ".".join(part.name for part in path)
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        raise FieldError(name, "a map cannot be set from a string")
    if not field.is_repeated and len(values) != 1:
        raise FieldError(name, "given more than once" if values else "given no value")
    parsed = [_parse(field, value, name) for value in values]
    parent = message
    for part in path[:-1]:
        parent = getattr(parent, part.name)
        parent.SetInParent()
    if field.message_type is None:
        if field.is_repeated:
            getattr(parent, field.name).extend(parsed)
        else:
            setattr(parent, field.name, parsed[0])
        return
    for value in parsed:
        assert isinstance(value, Message)
        target = getattr(parent, field.name).add() if field.is_repeated else getattr(parent, field.name)
        # Bytes, not CopyFrom: the request's well-known types may come from another descriptor pool.
        target.ParseFromString(value.SerializeToString())
        target.SetInParent()


def apply_query(message: Message, items: list[tuple[str, str]], *, bound: set[tuple[str, ...]]) -> None:
    """Sets fields from query parameters: every value of a key (or of its other spelling) together.

    A key naming a field the path or the body set (or a field within it, or one containing it) is
    refused, as is an unknown key, and so are two members of one oneof.
    """
    descriptor = message.DESCRIPTOR
    assert isinstance(descriptor, Descriptor)  # the stubs keep the runtime's descriptor type apart
    groups: dict[tuple[str, ...], tuple[str, tuple[FieldDescriptor, ...], list[str]]] = {}
    resolved: dict[str, tuple[FieldDescriptor, ...]] = {}
    for key, value in items:
        if key not in resolved:
            resolved[key] = resolve(descriptor, key)
        path = resolved[key]
        names = tuple(field.name for field in path)
        groups.setdefault(names, (key, path, []))[2].append(value)
    oneofs: dict[tuple[tuple[str, ...], str], tuple[str, str]] = {}
    for names, (key, path, _) in groups.items():
        if any(names[: len(other)] == other or other[: len(names)] == names for other in bound):
            raise FieldError(key, "set by the path or the body, not the query")
        for depth, field in enumerate(path):
            oneof = field.containing_oneof
            if oneof is None:
                continue
            first_key, member = oneofs.setdefault((names[:depth], oneof.full_name), (key, field.name))
            if member != field.name:
                raise FieldError(key, f"{oneof.name} is already set by {first_key}; give only one of them")
    for key, path, values in groups.values():
        try:
            set_from_string(message, path, values)
        except FieldError as error:
            raise FieldError(key, error.description) from None


def _parse(field: FieldDescriptor, text: str, name: str) -> _Scalar | Message:
    message_type = field.message_type
    if message_type is None:
        return _scalar(field, text, name)
    full_name = message_type.full_name
    wrapper = _WRAPPERS.get(full_name)
    if wrapper is not None:
        return wrapper(value=_scalar(message_type.fields_by_name["value"], text, name))
    parser = _WELL_KNOWN.get(full_name)
    if parser is not None:
        return parser(text, name)
    if full_name.startswith(_WKT):
        raise FieldError(name, f"a {full_name} cannot be set from a string")
    raise FieldError(name, f"a {full_name} cannot be set from a string; set its fields instead")


def _scalar(field: FieldDescriptor, text: str, name: str) -> _Scalar:
    kind = field.type
    if kind in _INTEGER_RANGES:
        low, high = _INTEGER_RANGES[kind]
        if not _INTEGER.fullmatch(text) or len(text) > 21 or not low <= int(text) <= high:
            raise FieldError(name, f"expected an integer from {low} to {high}, got {_shown(text)}")
        return int(text)
    if kind in (_FD.TYPE_FLOAT, _FD.TYPE_DOUBLE):
        return _number(text, name, kind == _FD.TYPE_FLOAT)
    if kind == _FD.TYPE_BOOL:
        if text not in ("true", "false"):
            raise FieldError(name, f"expected true or false, got {_shown(text)}")
        return text == "true"
    if kind == _FD.TYPE_ENUM:
        return _enum(field, text, name)
    if kind == _FD.TYPE_BYTES:
        return _bytes(text, name)
    try:
        text.encode()
    except UnicodeEncodeError:
        # Lone surrogates, as a lenient decoder leaves undecodable bytes: protobuf strings are UTF-8.
        raise FieldError(name, "expected UTF-8 text") from None
    return text


def _number(text: str, name: str, single: bool) -> float:
    special = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
    if text in special:
        return special[text]
    # Past the type's range is an error, not a silent infinity.
    if (
        not _NUMBER.fullmatch(text)
        or math.isinf(value := float(text))
        or (single and abs(value) > _FLOAT_MAX)
    ):
        width = "32-bit" if single else "64-bit"
        raise FieldError(name, f"expected a {width} number, NaN, Infinity or -Infinity, got {_shown(text)}")
    return value


def _enum(field: FieldDescriptor, text: str, name: str) -> int:
    enum = field.enum_type
    assert enum is not None
    named = enum.values_by_name.get(text)
    if named is not None:
        return named.number
    # Unknown numbers are refused too: the services would read them as unset or invalid anyway.
    if _INTEGER.fullmatch(text) and len(text) <= 11 and int(text) in enum.values_by_number:
        return int(text)
    raise FieldError(name, f"expected a {enum.full_name} value name or number, got {_shown(text)}")


def _bytes(text: str, name: str) -> bytes:
    unpadded = text.rstrip("=")
    padded = unpadded + "=" * (-len(unpadded) % 4)
    if _BASE64.fullmatch(unpadded) and text in (unpadded, padded) and len(unpadded) % 4 != 1:
        try:
            return base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
        except binascii.Error:
            pass
    raise FieldError(name, f"expected base64 (standard or URL-safe), got {_shown(text)}")


def _timestamp(text: str, name: str) -> Message:
    value = timestamp_pb2.Timestamp()
    if _TIMESTAMP.fullmatch(text):
        with contextlib.suppress(ValueError):
            value.FromJsonString(text)
            return value
    raise FieldError(name, f"expected an RFC 3339 time such as 2025-01-31T12:00:00Z, got {_shown(text)}")


def _duration(text: str, name: str) -> Message:
    value = duration_pb2.Duration()
    if _DURATION.fullmatch(text):
        with contextlib.suppress(ValueError):
            value.FromJsonString(text)
            return value
    raise FieldError(name, f"expected seconds ending in 's' such as 1.5s, got {_shown(text)}")


def _field_mask(text: str, name: str) -> Message:
    paths = text.split(",") if text else []
    if not all(_MASK_PATH.fullmatch(path) for path in paths):
        raise FieldError(name, f"expected comma-separated field paths, got {_shown(text)}")
    # The JSON mapping carries lowerCamelCase; the mask itself holds proto (snake_case) names.
    snake = [re.sub(r"[A-Z]", lambda upper: "_" + upper.group().lower(), path) for path in paths]
    return field_mask_pb2.FieldMask(paths=snake)


_WELL_KNOWN: dict[str, Callable[[str, str], Message]] = {
    "google.protobuf.Timestamp": _timestamp,
    "google.protobuf.Duration": _duration,
    "google.protobuf.FieldMask": _field_mask,
}


def _shown(text: str) -> str:
    # Echo enough of the client's value to recognize it, not an arbitrarily long one.
    return repr(text if len(text) <= 40 else text[:40] + "…")
