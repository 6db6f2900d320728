"""The headers the gateway reads and sets, as reusable parameters and response headers."""

from __future__ import annotations

from gateway.openapi import bodies
from gateway.routes import Route
from gateway.schemas import Schema

_PARAMS = "#/components/parameters/"


def request_headers(route: Route) -> list[Schema]:
    request = route.method.input_type
    found = [{"$ref": _PARAMS + "X-Request-Id"}]
    if "request_id" in request.fields_by_name:
        found.append({"$ref": _PARAMS + "Idempotency-Key"})
    body = route.body_field
    body_type = body.message_type if body is not None else None
    if "etag" in request.fields_by_name or (body_type is not None and "etag" in body_type.fields_by_name):
        found.append({"$ref": _PARAMS + "If-Match"})
    if route.streaming:
        if "cursor" in request.fields_by_name:
            found.append({"$ref": _PARAMS + "Last-Event-ID"})
    else:
        found.append({"$ref": _PARAMS + "grpc-timeout"})
    if bodies.conditional(route):
        found.append({"$ref": _PARAMS + "If-None-Match"})
    return found


def _header(name: str, description: str, schema: Schema | None = None) -> Schema:
    return {"name": name, "in": "header", "description": description, "schema": schema or {"type": "string"}}


def header_parameters() -> dict[str, Schema]:
    return {
        "X-Request-Id": _header(
            "X-Request-Id",
            "The request's id for logs and traces, echoed in the response. Kept when it is at most 128 "
            "characters of letters, digits and `-_.:`; otherwise the gateway makes one.",
        ),
        "Idempotency-Key": _header(
            "Idempotency-Key",
            "Fills `requestId` when the request gives none: a repeat with the same key returns the first "
            "result and changes nothing. With neither, the gateway picks a fresh id: the call takes effect "
            "once, but a retry of it is a new call.",
        ),
        "If-Match": _header(
            "If-Match",
            'An etag (`"abc"`, `W/"abc"` or bare); fills the request\'s etag (or its resource\'s) when the '
            "request gives none. A stale etag is ABORTED (409). `*` sets nothing.",
        ),
        "If-None-Match": _header(
            "If-None-Match", "An etag: when the resource still has it, the answer is 304 with no body."
        ),
        "Last-Event-ID": _header(
            "Last-Event-ID",
            "The `id` of the last server-sent event received: the stream resumes right after it. It fills "
            "`cursor` unless the query sets one.",
        ),
        "grpc-timeout": _header(
            "grpc-timeout",
            "The call's deadline in gRPC form: up to 8 digits and a unit (H, M, S, m for ms, u for µs, n for "
            "ns), e.g. `500m`. Without it the gateway's default applies (10 s unless configured); longer "
            "deadlines are cut to its maximum (60 s unless configured).",
            {"type": "string", "pattern": "^[0-9]{1,8}[HMSmun]$"},
        ),
    }


def response_headers() -> dict[str, Schema]:
    def header(description: str) -> Schema:
        return {"description": description, "schema": {"type": "string"}}

    return {
        "X-Request-Id": header(
            "The request's id: the caller's `X-Request-Id` if it was kept, else a new one."
        ),
        "ETag": header(
            "The resource's etag, quoted: send it back in `If-Match` to act only on what you read."
        ),
        "RateLimit": header(
            'The caller\'s remaining quota: `"<policy>";r=<remaining>;t=<seconds to reset>`.'
        ),
        "RateLimit-Policy": header('The quota: `"<policy>";q=<burst>;w=<seconds to refill>`.'),
        "Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}},
        "WWW-Authenticate": header('The scheme to authenticate with: `Bearer realm="stockmesh"`.'),
    }
