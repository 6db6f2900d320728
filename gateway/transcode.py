"""HTTP request -> request message, response message -> JSON, by the rules of
`google.api.http` and the proto3 JSON mapping.

Fields come from three places: the path variables, the body (the whole
request for `body: "*"`, one field for `body: "<field>"`, nothing when absent)
and the query string (every field the path and body do not bind). The path
wins over the body, as in grpc-gateway. JSON is printed with lowerCamelCase
names, enums by name, int64 as strings and every field without presence
(a level's `available: 0` is printed, not omitted); the Envoy edge is
configured to print the same.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

import msgspec
from google.api import field_behavior_pb2
from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from gateway import errors, fields
from gateway.descriptors import behaviors, is_map
from gateway.routes import Route

JSON_TYPES = ("application/json",)
_encode = msgspec.json.Encoder().encode
_WHERE = re.compile(r' at "([^"]+)"')
_UNKNOWN = re.compile(r'has no field named "([^"]+)"')
_FAILED = re.compile(r"Failed to parse (\w+) field: ")
_resolved: dict[tuple[str, str], tuple[FieldDescriptor, ...]] = {}


def request_message(
    route: Route,
    bindings: Mapping[tuple[str, ...], str],
    query: list[tuple[str, str]],
    body: bytes,
    content_type: str | None,
) -> Message:
    """The request message of `route` from the parts of an HTTP request;
    bad input is an `EdgeError` naming the field, never an exception of ours."""
    message = route.request_class()
    bound = {tuple(path) for path in bindings}
    if route.body:
        _merge_body(route, message, body, content_type)
        if route.body != "*":
            bound.add((route.body,))
    elif body.strip():
        raise errors.bad_request(
            f"{route.http_method} {route.template.text} takes no body", "BODY_NOT_ALLOWED", "body"
        )
    if query:
        if route.body == "*":
            names = ", ".join(sorted({key for key, _ in query}))
            raise errors.bad_request(
                f"unknown query parameter(s): {names} (every field goes in the body)",
                "UNKNOWN_QUERY_PARAMETER",
            )
        try:
            fields.apply_query(message, query, bound=bound)
        except fields.FieldError as exc:
            raise errors.bad_request(
                f"{exc.field}: {exc.description}", "INVALID_QUERY_PARAMETER", exc.field
            ) from None
    for path, value in bindings.items():
        target = _resolve(message.DESCRIPTOR, ".".join(path))
        try:
            fields.set_from_string(message, target, [value])
        except fields.FieldError as exc:
            raise errors.bad_request(
                f"{exc.field}: {exc.description}", "INVALID_PATH_PARAMETER", exc.field
            ) from None
    return message


def _merge_body(route: Route, message: Message, body: bytes, content_type: str | None) -> None:
    if not body.strip():
        return  # an empty body is an empty message: every field at its default
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media not in JSON_TYPES:
        raise errors.EdgeError(
            415,
            3,  # INVALID_ARGUMENT
            f"the body must be application/json, not {media or 'unlabelled'}",
            "UNSUPPORTED_MEDIA_TYPE",
        )
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f" at line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8"
        raise errors.bad_request(f"malformed JSON{where}: {reason}", "MALFORMED_JSON", "body") from None
    if route.body == "*":
        if not isinstance(data, dict):
            raise errors.bad_request("the body must be a JSON object", "MALFORMED_JSON", "body")
    else:
        field = message.DESCRIPTOR.fields_by_name[route.body]
        data = {field.json_name: data}
    try:
        json_format.ParseDict(data, message)
    except (json_format.ParseError, ValueError, TypeError, RecursionError) as exc:
        text = str(exc).splitlines()[0] if str(exc) else "invalid body"
        field_path = _field_path(route, text)
        reason = "UNKNOWN_FIELD" if _UNKNOWN.search(text) else "INVALID_FIELD"
        raise errors.bad_request(f"{field_path}: {text}", reason, field_path) from None


def _field_path(route: Route, text: str) -> str:
    """The dotted path of the bad field, from the parser's message, e.g.
    `has no field named "colour" at "CreateOrderRequest.order.lines[0]"`."""
    where = _WHERE.search(text)
    unknown = _UNKNOWN.search(text)
    if where or unknown:
        inside = where.group(1).split(".", 1)[1] if where and "." in where.group(1) else ""
        parts = [p for p in (inside, unknown.group(1) if unknown else "") if p]
    else:  # "Failed to parse lines field: Failed to parse quantity field: ..."
        parts = _FAILED.findall(text)
    # A body-field rule parses {"<field>": body}; the parser's path then starts there.
    return ".".join(parts) or (route.body if route.body not in ("", "*") else "body")


def _resolve(descriptor: Any, path: str) -> tuple[FieldDescriptor, ...]:
    key = (descriptor.full_name, path)
    found = _resolved.get(key)
    if found is None:
        found = _resolved[key] = fields.resolve(descriptor, path)
    return found


def fill_request_id(message: Message, key: str | None) -> None:
    """`Idempotency-Key` becomes `request_id` when the body gave none. With
    neither, the edge picks a fresh id: the call takes effect once, as any
    plain HTTP POST would, but a retry of it is a new call; a client that
    retries sends the same `Idempotency-Key`."""
    if "request_id" in message.DESCRIPTOR.fields_by_name and not message.request_id:  # type: ignore[attr-defined]
        message.request_id = key or uuid.uuid4().hex  # type: ignore[attr-defined]


def fill_etag(route: Route, message: Message, if_match: str | None) -> None:
    """`If-Match` becomes the request's etag (or its body resource's) when unset."""
    tag = parse_if_match(if_match)
    if not tag:
        return
    if "etag" in message.DESCRIPTOR.fields_by_name:
        if not message.etag:  # type: ignore[attr-defined]
            message.etag = tag  # type: ignore[attr-defined]
        return
    field = route.body_field
    if field is not None and field.message_type is not None and "etag" in field.message_type.fields_by_name:
        resource = getattr(message, field.name)
        if not resource.etag:
            resource.etag = tag


def parse_if_match(value: str | None) -> str:
    if not value or value.strip() == "*":
        return ""
    tag = value.strip()
    if "," in tag:
        raise errors.bad_request("If-Match takes one etag", "INVALID_IF_MATCH", "If-Match")
    if tag.startswith("W/"):
        tag = tag[2:]
    return tag.strip('"')


def response_json(route: Route, response: Message) -> tuple[bytes, str | None]:
    """The JSON body of a response and its etag (for an `ETag` header), if any."""
    data = as_dict(response)
    etag = _etag_of(data)
    if route.response_body:
        return _encode(data.get(response.DESCRIPTOR.fields_by_name[route.response_body].json_name)), etag
    return _encode(data), etag


def as_dict(message: Message) -> dict[str, Any]:
    """A message in its JSON form, without its INPUT_ONLY fields (a user's
    `password` is taken, never shown, not even empty)."""
    data = json_format.MessageToDict(message, always_print_fields_with_no_presence=True)
    _strip(data, message.DESCRIPTOR)
    return data


# Per message type: (json name, what to do: "drop", "one", "many" or "map",
# the nested message type to walk into).
_Plan = list[tuple[str, str, Any]]
_plans: dict[str, _Plan] = {}


def _strip(data: Any, descriptor: Any) -> None:
    plan = _plan(descriptor)
    if not plan or not isinstance(data, dict):
        return
    for name, action, nested in plan:
        if action == "drop":
            data.pop(name, None)
            continue
        value = data.get(name)
        if action == "one":
            _strip(value, nested)
            continue
        items = (value or []) if action == "many" else (value or {}).values()
        for item in items:
            _strip(item, nested)


def _plan(descriptor: Any) -> _Plan:
    """What to drop or walk into in messages of this type, worked out once;
    empty for the (usual) types with no INPUT_ONLY field anywhere below."""
    found = _plans.get(descriptor.full_name)
    if found is not None:
        return found
    _plans[descriptor.full_name] = []  # a recursive type is walked once
    plan: _Plan = []
    for field in descriptor.fields:
        if field_behavior_pb2.INPUT_ONLY in behaviors(field):
            plan.append((field.json_name, "drop", None))
            continue
        nested, action = field.message_type, "many" if field.is_repeated else "one"
        if nested is not None and is_map(field):
            nested, action = nested.fields_by_name["value"].message_type, "map"
        if nested is not None and _plan(nested):
            plan.append((field.json_name, action, nested))
    _plans[descriptor.full_name] = plan
    return plan


def encode(data: Any) -> bytes:
    return _encode(data)


def _etag_of(data: dict[str, Any]) -> str | None:
    tag = data.get("etag")
    if isinstance(tag, str) and tag:
        return tag
    # Get/Create/Update responses wrap one resource: its etag is the response's.
    nested = [v for v in data.values() if isinstance(v, dict)]
    if len(nested) == 1:
        inner = nested[0].get("etag")
        if isinstance(inner, str) and inner:
            return inner
    return None
