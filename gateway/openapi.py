"""The OpenAPI 3.1 document of the gateway, generated from the same descriptors as its routes.

Paths spell out the resource-name patterns of the templates: `/v1/{name=warehouses/*/stockLevels/*}`
becomes `/v1/warehouses/{warehouse}/stockLevels/{stockLevel}`, one parameter per `*` segment. A single
`{name}` parameter holding "warehouses/w1" cannot work: OpenAPI clients percent-encode its '/', and the
gateway matches the literal `warehouses` against the decoded segment, so `warehouses%2Fw1` fits no
template; and every `get: "/v1/{name=<collection>/*}"` would collapse into one path `/v1/{name}`. Each
segment parameter names the field it fills (`x-stockmesh-field`) and the field's pattern
(`x-stockmesh-pattern`); a variable that is one bare segment (`{sku}`) keeps its field path as its name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from google.protobuf import any_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.rpc import error_details_pb2, status_pb2

from gateway.descriptors import behaviors
from gateway.routes import Route, RouteTable
from gateway.schemas import REF, REQUEST_ID, REQUIRED, Schema, SchemaSet, real_oneof, scalar_like
from gateway.templates import PathTemplate, TemplateError, Variable

OPENAPI_VERSION = "3.1.0"
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_JSON = "application/json"
_EVENT_STREAM = "text/event-stream"
_NDJSON = "application/x-ndjson"
# One path segment; "." and ".." are left out because clients resolve them away before sending.
_SEGMENT = r"^(?!\.\.?$)[^/]+$"
_WILDCARDS = ("*", "**")
_PARAMS = "#/components/parameters/"
_RESPONSES = "#/components/responses/"
_HEADERS = "#/components/headers/"
_TYPE_URL = "type.googleapis.com/"


def document(
    table: RouteTable, *, title: str = "stockmesh", version: str = "v1", server_url: str | None = None
) -> dict[str, Any]:
    """The OpenAPI 3.1.0 document of every route of `table`; the same table gives the same JSON."""
    schemas = SchemaSet(table.contracts)
    for service in table.contracts.services():
        # Every message and enum of the served contracts gets a component, referenced or not.
        for message in service.file.message_types_by_name.values():
            schemas.ref(message)
        for enum in service.file.enum_types_by_name.values():
            schemas.ref(enum)
    paths: dict[str, dict[str, Any]] = {}
    tags: dict[str, str] = {}
    ids: set[str] = set()
    shapes: dict[str, list[str]] = {}
    for route in table.routes:
        method = route.http_method.lower()
        if method not in _METHODS:
            continue  # a custom verb OpenAPI cannot name
        found = _path(route, shapes, table)
        if found is None:
            continue
        path, parameters = found
        service = route.method.containing_service
        tags.setdefault(service.name, table.contracts.comment(service))
        operation = _operation(route, schemas, table, _unique(ids, f"{service.name}_{route.method.name}"))
        operation["parameters"] = [*parameters, *operation["parameters"]]
        item = paths.setdefault(path, {})
        if method in item:
            raise ValueError(
                f"two routes are {method.upper()} {path}: {item[method]['operationId']}, {route}"
            )
        item[method] = operation
    error_schemas = _error_schemas(schemas)
    components = schemas.components()
    components.update(error_schemas)
    doc: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": version, "description": _INFO},
    }
    if server_url is not None:
        doc["servers"] = [{"url": server_url}]
    doc["tags"] = [
        {"name": name, "description": text} if text else {"name": name} for name, text in tags.items()
    ]
    doc["paths"] = paths
    doc["components"] = {
        "schemas": dict(sorted(components.items())),
        "responses": _error_responses(),
        "parameters": _header_parameters(),
        "headers": _response_headers(),
        "securitySchemes": {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "The `tokens.accessToken` of POST /v1/auth:login (or /v1/auth:refresh).",
            }
        },
    }
    return doc


def summary(comment: str) -> str:
    """The first sentence of a comment, on one line."""
    text = " ".join(comment.split())
    for found in re.finditer(r"[.!?](?=\s|$)", text):
        head = text[: found.end()]
        if not re.search(r"\b(e\.g|i\.e|etc|vs)\.$", head):
            return head
    return text


def _unique(taken: set[str], base: str) -> str:
    # An additional binding of a method is the method's second operation: `_2`, then `_3`.
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    taken.add(name)
    return name


def _segments(template: PathTemplate) -> list[tuple[str, Variable | None]] | None:
    """The template's segments, each with the variable it belongs to (its pattern spelled out), or None
    for a template with a wildcard outside any variable, which binds nothing and OpenAPI cannot name."""
    try:
        text = template.openapi_path()
    except TemplateError:
        return None
    if template.verb:
        text = text[: -len(template.verb) - 1]
    variables = {".".join(variable.field_path): variable for variable in template.variables}
    segments: list[tuple[str, Variable | None]] = []
    for part in text[1:].split("/"):
        variable = variables.get(part[1:-1]) if part.startswith("{") and part.endswith("}") else None
        if variable is None:
            segments.append((part, None))
        else:
            segments += [(piece, variable) for piece in variable.pattern.split("/")]
    return segments


def _path(route: Route, shapes: dict[str, list[str]], table: RouteTable) -> tuple[str, list[Schema]] | None:
    """The OpenAPI path of a route and its path parameters, one per wildcard segment."""
    template = route.template
    segments = _segments(template)
    if segments is None:
        return None
    names: list[str] = []
    for index, (piece, variable) in enumerate(segments):
        if piece in _WILDCARDS and variable is not None:
            name = _segment_name(segments, index, variable)
            while name in names:
                name += "_"
            names.append(name)
    shape = "/" + "/".join("{}" if piece in _WILDCARDS else piece for piece, _ in segments)
    shape += f":{template.verb}" if template.verb else ""
    # Paths of one shape are one path to OpenAPI: all take the parameter names of the first.
    names = shapes.setdefault(shape, names)
    path = shape
    for name in names:
        path = path.replace("{}", "{" + name + "}", 1)
    named = iter(names)
    spelled: list[tuple[str, str, Variable]] = []  # (segment as the path spells it, segment, variable)
    for piece, variable in segments:
        if variable is not None:
            spelled.append(("{" + next(named) + "}" if piece in _WILDCARDS else piece, piece, variable))
    parameters = []
    for text, piece, variable in spelled:
        if piece in _WILDCARDS:
            value = "/".join(shown for shown, _, owner in spelled if owner is variable)
            parameters.append(_path_parameter(route, text[1:-1], piece, variable, value, table))
    return path, parameters


def _segment_name(segments: list[tuple[str, Variable | None]], index: int, variable: Variable) -> str:
    previous, owner = segments[index - 1] if index else ("", None)
    if owner is not variable or previous in _WILDCARDS:
        return ".".join(variable.field_path)
    # The collection before the segment, singular: warehouses/* -> {warehouse}.
    for plural, singular in (("ies", "y"), ("sses", "ss"), ("xes", "x"), ("ches", "ch"), ("shes", "sh")):
        if previous.endswith(plural):
            return previous[: -len(plural)] + singular
    if previous.endswith("s") and not previous.endswith("ss"):
        return previous[:-1]
    return previous + "Id"


def _path_parameter(
    route: Route, name: str, piece: str, variable: Variable, value: str, table: RouteTable
) -> Schema:
    field_path = ".".join(variable.field_path)
    if piece == "**":
        schema: Schema = {"type": "string", "minLength": 1}
        shape = "The rest of the path, '/' included: send each '/' unescaped."
    else:
        schema = {"type": "string", "pattern": _SEGMENT}
        shape = "One path segment (no '/'); percent-encoded characters are decoded."
    where = f"The `{{{name}}}` of" if value.count("{") > 1 else "Fills"
    lines = [f"{where} `{field_path}` = `{value}` (pattern `{variable.pattern}`). {shape}"]
    comment = table.contracts.comment(_field_at(route.method.input_type, variable.field_path))
    if comment:
        lines.append(comment)
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": "\n\n".join(lines),
        "schema": schema,
        "x-stockmesh-field": field_path,
        "x-stockmesh-pattern": variable.pattern,
    }


def _field_at(descriptor: Descriptor, path: tuple[str, ...]) -> FieldDescriptor:
    field = descriptor.fields_by_name[path[0]]
    for name in path[1:]:
        assert field.message_type is not None  # the route table checked the path
        field = field.message_type.fields_by_name[name]
    return field


def _operation(route: Route, schemas: SchemaSet, table: RouteTable, operation_id: str) -> dict[str, Any]:
    comment = table.contracts.comment(route.method)
    request = route.method.input_type
    bound = {variable.field_path for variable in route.template.variables}
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary(comment) if comment else route.method.name,
    }
    if comment:
        # Roles close each method's comment: their own paragraph, not the end of the last sentence.
        operation["description"] = re.sub(r"\n(?=Roles:)", "\n\n", comment)
    operation["tags"] = [route.method.containing_service.name]
    parameters: list[Schema] = []
    if route.body != "*":
        body_bound = bound | ({(route.body,)} if route.body else set())
        parameters += _query(schemas, request, (), (), body_bound, required=True, stack=())
    parameters += _headers(route)
    operation["parameters"] = parameters
    if route.body:
        operation["requestBody"] = _request_body(route, schemas, table, bound)
    operation["responses"] = _responses(route, schemas)
    operation["security"] = [] if route.public else [{"bearer": []}]
    if route.method.GetOptions().deprecated:
        operation["deprecated"] = True
    operation["x-stockmesh-rpc"] = route.grpc_path
    operation["x-stockmesh-template"] = route.template.text
    return operation


def _query(
    schemas: SchemaSet,
    descriptor: Descriptor,
    names: tuple[str, ...],
    json_names: tuple[str, ...],
    bound: set[tuple[str, ...]],
    *,
    required: bool,
    stack: tuple[str, ...],
) -> Iterator[Schema]:
    """Query parameters for the fields the path and body leave, flattened through singular messages."""
    for field in descriptor.fields:
        path = (*names, field.name)
        if any(path[: len(other)] == other for other in bound):
            continue  # set by the path or the body; the gateway refuses it in the query
        spelled = (*json_names, field.json_name)
        needed = (
            required
            and REQUIRED in behaviors(field)
            and real_oneof(field) is None
            and field.name != REQUEST_ID
        )
        message = field.message_type
        if not scalar_like(field):
            assert message is not None
            walkable = not (field.is_repeated or message.full_name.startswith("google.protobuf."))
            if walkable and message.full_name not in stack:
                yield from _query(
                    schemas, message, path, spelled, bound, required=needed, stack=(*stack, message.full_name)
                )
            continue
        described = schemas.field(field)
        parameter: Schema = {"name": ".".join(spelled), "in": "query"}
        if needed:
            parameter["required"] = True
        description = described.pop("description", "")
        if description:
            parameter["description"] = description
        if described.pop("deprecated", False):
            parameter["deprecated"] = True
        described.pop("readOnly", None)
        described.pop("writeOnly", None)
        if field.is_repeated:
            parameter |= {"style": "form", "explode": True}
        parameter["schema"] = described
        yield parameter


def _headers(route: Route) -> list[Schema]:
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
    if _conditional(route):
        found.append({"$ref": _PARAMS + "If-None-Match"})
    return found


def _conditional(route: Route) -> bool:
    """Whether the route answers 304 to a matching `If-None-Match`: unary GETs that may set `ETag`."""
    return route.http_method == "GET" and not route.streaming and _carries_etag(route.method.output_type)


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


def _request_body(route: Route, schemas: SchemaSet, table: RouteTable, bound: set[tuple[str, ...]]) -> Schema:
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
    return {"description": description, "required": True, "content": {_JSON: {"schema": schema}}}


def _responses(route: Route, schemas: SchemaSet) -> dict[str, Any]:
    response = route.method.output_type
    if route.response_body:
        schema = schemas.value(response.fields_by_name[route.response_body])
    else:
        schema = schemas.ref(response)
    headers: dict[str, Any] = {
        name: {"$ref": _HEADERS + name} for name in ("X-Request-Id", "RateLimit", "RateLimit-Policy")
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
            headers["ETag"] = {"$ref": _HEADERS + "ETag"}
        ok = {"description": "The response.", "headers": headers, "content": {_JSON: {"schema": schema}}}
    responses: dict[str, Any] = {"200": ok}
    if _conditional(route):
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


def _error_schemas(schemas: SchemaSet) -> dict[str, Schema]:
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
    headers = {name: {"$ref": _HEADERS + name} for name in ("X-Request-Id", *extra)}
    return {
        "description": description,
        "headers": headers,
        "content": {_JSON: {"schema": {"$ref": REF + status_pb2.Status.DESCRIPTOR.full_name}}},
    }


def _error_responses() -> dict[str, Schema]:
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
                "ETag": {"$ref": _HEADERS + "ETag"},
                "X-Request-Id": {"$ref": _HEADERS + "X-Request-Id"},
            },
        },
    }


def _header(name: str, description: str, schema: Schema | None = None) -> Schema:
    return {"name": name, "in": "header", "description": description, "schema": schema or {"type": "string"}}


def _header_parameters() -> dict[str, Schema]:
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


def _response_headers() -> dict[str, Schema]:
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


_INFO = """\
REST/JSON access to the stockmesh services (catalog, stock, orders, procurement, users). Each operation \
is one gRPC method, transcoded by its `google.api.http` rule; its description is the contract's comment.

**Logging in.** `POST /v1/auth:login` with `{"tenant", "email", "password"}` answers \
`tokens.accessToken`; send it as `Authorization: Bearer <accessToken>` on every other call. Renew it with \
`POST /v1/auth:refresh` before `tokens.accessTokenExpireTime`.

**JSON.** Fields are lowerCamelCase (the proto names are accepted too), enums are value names, 64-bit \
integers are decimal strings, times are RFC 3339, durations are seconds with an `s` (`"1.5s"`). Responses \
print every field that has no presence (zeros, empty strings and lists included); unset messages are \
left out. Fields that neither the path nor the body set can be given as query parameters, by their \
dotted names (`filter.sku`); a repeated one is repeated (`skus=a&skus=b`).

**Resource names.** A path such as `/v1/warehouses/{warehouse}/stockLevels/{stockLevel}` fills the \
request's `name` with `warehouses/<warehouse>/stockLevels/<stockLevel>`: each parameter is one path \
segment.

**Errors** are the JSON form of `google.rpc.Status` (`code`, `message`, `details` with `@type`), with \
this HTTP status:

| gRPC code | HTTP |
| --- | --- |
| INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE | 400 |
| UNAUTHENTICATED | 401 |
| PERMISSION_DENIED | 403 |
| NOT_FOUND | 404 |
| ALREADY_EXISTS, ABORTED | 409 |
| RESOURCE_EXHAUSTED | 429 |
| CANCELLED | 499 |
| UNIMPLEMENTED | 501 |
| UNAVAILABLE | 503 |
| DEADLINE_EXCEEDED | 504 |
| any other | 500 |
"""
