"""The OpenAPI 3.1 document of the gateway, generated from the same descriptors as its routes.

Paths spell out the resource-name patterns of the templates: `/v1/{name=warehouses/*/stockLevels/*}`
becomes `/v1/warehouses/{warehouse}/stockLevels/{stockLevel}`, one parameter per `*` segment. A single
`{name}` parameter holding "warehouses/w1" cannot work: OpenAPI clients percent-encode its '/', and the
gateway matches the literal `warehouses` against the decoded segment, so `warehouses%2Fw1` fits no
template; and every `get: "/v1/{name=<collection>/*}"` would collapse into one path `/v1/{name}`. Each
segment parameter names the field it fills (`x-stockmesh-field`) and the field's pattern
(`x-stockmesh-pattern`); a variable that is one bare segment (`{sku}`) keeps its field path as its name.
Each operation names the roles that may call it (`x-stockmesh-roles`, read by `roles.roles` from the
comment's `Roles:` line), so a client such as the operator console can hide what its user may not do.
"""

from __future__ import annotations

import re
from typing import Any

from gateway.openapi import bodies, headers, paths, roles
from gateway.routes import Route, RouteTable
from gateway.schemas import Schema, SchemaSet

OPENAPI_VERSION = "3.1.0"


_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


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
    served: dict[str, dict[str, Any]] = {}
    tags: dict[str, str] = {}
    ids: set[str] = set()
    shapes: dict[str, list[str]] = {}
    for route in table.routes:
        method = route.http_method.lower()
        if method not in _METHODS:
            continue  # a custom verb OpenAPI cannot name
        found = paths.of_route(route, shapes, table)
        if found is None:
            continue
        path, parameters = found
        service = route.method.containing_service
        tags.setdefault(service.name, table.contracts.comment(service))
        operation = _operation(route, schemas, table, _unique(ids, f"{service.name}_{route.method.name}"))
        operation["parameters"] = [*parameters, *operation["parameters"]]
        item = served.setdefault(path, {})
        if method in item:
            raise ValueError(
                f"two routes are {method.upper()} {path}: {item[method]['operationId']}, {route}"
            )
        item[method] = operation
    error_schemas = bodies.error_schemas(schemas)
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
    doc["paths"] = served
    doc["components"] = {
        "schemas": dict(sorted(components.items())),
        "responses": bodies.error_responses(),
        "parameters": headers.header_parameters(),
        "headers": headers.response_headers(),
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
        parameters += paths.query_parameters(schemas, request, (), (), body_bound, required=True, stack=())
    parameters += headers.request_headers(route)
    operation["parameters"] = parameters
    if route.body:
        operation["requestBody"] = bodies.request_body(route, schemas, table, bound)
    operation["responses"] = bodies.responses(route, schemas)
    operation["security"] = [] if route.public else [{"bearer": []}]
    if route.method.GetOptions().deprecated:
        operation["deprecated"] = True
    operation["x-stockmesh-rpc"] = route.grpc_path
    operation["x-stockmesh-template"] = route.template.text
    allowed = roles.roles(comment)
    if allowed is not None:  # a comment with no `Roles:` line promises nothing: leave it out
        operation["x-stockmesh-roles"] = allowed
    return operation


_INFO = """\
REST/JSON access to the stockmesh services (catalog, stock, orders, procurement, users). Each operation \
is one gRPC method, transcoded by its `google.api.http` rule; its description is the contract's comment. \
`x-stockmesh-roles` lists the roles that may call each operation (`[]`: public, no token needed).

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
