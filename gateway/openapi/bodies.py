"""Request bodies and responses, the error schemas (`google.rpc.Status` and its details) and the
error responses every operation refers to."""

from __future__ import annotations

from typing import Any

from google.protobuf import any_pb2
from google.protobuf.descriptor import Descriptor
from google.rpc import error_details_pb2, status_pb2

from gateway.routes import Route, RouteTable
from gateway.schemas import REF, Schema, SchemaSet

JSON = "application/json"


_EVENT_STREAM = "text/event-stream"


_NDJSON = "application/x-ndjson"


_RESPONSES = "#/components/responses/"


HEADERS = "#/components/headers/"


_TYPE_URL = "type.googleapis.com/"


def _carries_etag(response: Descriptor) -> bool:
    """Whether a response may set `ETag`: it has an etag, or wraps one resource that has one."""
    if "etag" in response.fields_by_name:
        return True
    return any(
        field.message_type is not None
        and not field.is_repeated
        and "etag" in field.message_type.fields_by_name
        for field in response.fields
    )


def conditional(route: Route) -> bool:
    """Whether the route answers 304 to a matching `If-None-Match`: unary GETs that may set `ETag`."""
    return route.http_method == "GET" and not route.streaming and _carries_etag(route.method.output_type)


def request_body(route: Route, schemas: SchemaSet, table: RouteTable, bound: set[tuple[str, ...]]) -> Schema:
    request = route.method.input_type
    field = route.body_field
    if field is not None:
        schema = schemas.value(field)
        lines = [f"The request's `{field.json_name}`."]
        comment = table.contracts.comment(field)
        if comment:
            lines.append(comment)
        inner = {path[1:] for path in bound if path[0] == field.name and len(path) > 1}
        if inner:
            spelled = ", ".join(f"`{'.'.join(path)}`" for path in sorted(inner))
            lines.append(f"The path sets its {spelled}; a value given here is overridden.")
        description = "\n\n".join(lines)
    else:
        top = frozenset(path[0] for path in bound if len(path) == 1)
        if top:
            # The path fills these fields: the body need not repeat them, and the path wins if it does.
            schema = schemas.message(request, omit=top)
            spelled = ", ".join(f"`{request.fields_by_name[name].json_name}`" for name in sorted(top))
            description = f"The request, less {spelled}, which the path sets."
        else:
            schema = schemas.ref(request)
            description = "The request."
    return {"description": description, "required": True, "content": {JSON: {"schema": schema}}}


def responses(route: Route, schemas: SchemaSet) -> dict[str, Any]:
    response = route.method.output_type
    if route.response_body:
        schema = schemas.value(response.fields_by_name[route.response_body])
    else:
        schema = schemas.ref(response)
    headers: dict[str, Any] = {
        name: {"$ref": HEADERS + name} for name in ("X-Request-Id", "RateLimit", "RateLimit-Policy")
    }
    if route.streaming:
        ok: dict[str, Any] = {
            "description": (
                "A stream of response messages, ended by the server at any time. "
                f"`Accept: {_EVENT_STREAM}` gives server-sent events, anything else newline-delimited JSON. "
                "A refusal before the first message is an ordinary error response; an error after it is "
                'the stream\'s last item (an SSE event named `error`, or an NDJSON line `{"error": Status}`).'
            ),
            "headers": headers,
            "content": {
                _EVENT_STREAM: {
                    "schema": {
                        "type": "string",
                        "description": (
                            "Server-sent events: each event's `data` is one JSON response message and its "
                            "`id` the message's cursor, the stream position. A reconnecting client sends "
                            "the last id as `Last-Event-ID` and resumes right after it. Heartbeats are "
                            "comment lines (`: heartbeat`), which move no cursor."
                        ),
                    }
                },
                _NDJSON: {
                    "schema": {
                        **schema,
                        "description": "Newline-delimited JSON: each line is one response message.",
                    }
                },
            },
        }
    else:
        if _carries_etag(response):
            headers["ETag"] = {"$ref": HEADERS + "ETag"}
        ok = {"description": "The response.", "headers": headers, "content": {JSON: {"schema": schema}}}
    responses: dict[str, Any] = {"200": ok}
    if conditional(route):
        responses["304"] = {"$ref": _RESPONSES + "NotModified"}
    responses["400"] = {"$ref": _RESPONSES + "BadRequest"}
    if not route.public:
        responses["401"] = {"$ref": _RESPONSES + "Unauthenticated"}
        responses["403"] = {"$ref": _RESPONSES + "PermissionDenied"}
    if route.template.variables:
        responses["404"] = {"$ref": _RESPONSES + "NotFound"}
    if route.http_method not in ("GET", "HEAD", "OPTIONS"):
        responses["409"] = {"$ref": _RESPONSES + "Conflict"}
    responses["429"] = {"$ref": _RESPONSES + "TooManyRequests"}
    responses["503"] = {"$ref": _RESPONSES + "Unavailable"}
    responses["default"] = {"$ref": _RESPONSES + "Error"}
    return responses


def error_schemas(schemas: SchemaSet) -> dict[str, Schema]:
    """`google.rpc.Status` and the details the services send, as their JSON forms."""
    details = {
        error_details_pb2.ErrorInfo: (
            "Why: a reason (UPPER_SNAKE_CASE, e.g. `INSUFFICIENT_STOCK`), the domain that defines it "
            "(`stockmesh.io`) and metadata about the case."
        ),
        error_details_pb2.BadRequest: (
            "INVALID_ARGUMENT: one violation per bad field, named by its path in the request "
            "(e.g. `lines[2].quantity`)."
        ),
        error_details_pb2.PreconditionFailure: (
            "FAILED_PRECONDITION: one violation per failed condition; `type` is the reason, `subject` the "
            "resource at fault (e.g. a stock level's name)."
        ),
        error_details_pb2.RetryInfo: (
            "When to retry (RESOURCE_EXHAUSTED, UNAVAILABLE); also sent as `Retry-After`."
        ),
    }
    sub = SchemaSet(schemas.contracts)
    refs = [sub.ref(message.DESCRIPTOR) for message in (status_pb2.Status, *details)]
    built = sub.components()
    status = built[status_pb2.Status.DESCRIPTOR.full_name]
    status["description"] = (
        "An error: the JSON form of `google.rpc.Status`. `code` is the gRPC code (3 INVALID_ARGUMENT, "
        "5 NOT_FOUND, ...), `message` a developer-facing text, `details` typed detail messages."
    )
    status["required"] = ["code", "message", "details"]
    status["properties"]["code"]["description"] = "The gRPC status code."
    status["properties"]["details"] = {
        "type": "array",
        "description": "Typed details; each names its type in `@type`. Unknown types may appear.",
        "items": {"anyOf": [*refs[1:], sub.ref(any_pb2.Any.DESCRIPTOR)]},
    }
    for message, text in details.items():
        name = message.DESCRIPTOR.full_name
        schema = built[name]
        schema["description"] = text
        schema["properties"] = {"@type": {"const": _TYPE_URL + name}, **schema["properties"]}
        schema["required"] = ["@type", *schema.get("required", [])]
    return built


def _error_response(description: str, *extra: str) -> Schema:
    headers = {name: {"$ref": HEADERS + name} for name in ("X-Request-Id", *extra)}
    return {
        "description": description,
        "headers": headers,
        "content": {JSON: {"schema": {"$ref": REF + status_pb2.Status.DESCRIPTOR.full_name}}},
    }


def error_responses() -> dict[str, Schema]:
    return {
        "BadRequest": _error_response(
            "INVALID_ARGUMENT (a BadRequest detail names each bad field), FAILED_PRECONDITION (an ErrorInfo "
            "reason, often a PreconditionFailure) or OUT_OF_RANGE."
        ),
        "Unauthenticated": _error_response(
            "UNAUTHENTICATED: no access token, or one that is invalid or expired.", "WWW-Authenticate"
        ),
        "PermissionDenied": _error_response("PERMISSION_DENIED: the token's roles do not allow this call."),
        "NotFound": _error_response("NOT_FOUND: the resource does not exist in the caller's tenant."),
        "Conflict": _error_response("ALREADY_EXISTS, or ABORTED: a stale etag; read again and retry."),
        "TooManyRequests": _error_response(
            "RESOURCE_EXHAUSTED: a rate limit; retry after `Retry-After` seconds.",
            "Retry-After",
            "RateLimit",
            "RateLimit-Policy",
        ),
        "Unavailable": _error_response("UNAVAILABLE: a service cannot be reached; retry with backoff."),
        "Error": _error_response("Any other error, as a google.rpc.Status; see the status table above."),
        "NotModified": {
            "description": "The resource still has the etag given in `If-None-Match`.",
            "headers": {
                "ETag": {"$ref": HEADERS + "ETag"},
                "X-Request-Id": {"$ref": HEADERS + "X-Request-Id"},
            },
        },
    }
