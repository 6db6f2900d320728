"""The route table: one route per `google.api.http` binding of the contracts.

Nothing here names an RPC. Each binding becomes a route to its method's
service, found by package (`stockmesh.stock.v1` -> the `stock` peer). Two
bindings that could match the same request make the table refuse to build,
naming both, so an ambiguous contract fails at start-up rather than at the
first unlucky request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from google.protobuf.descriptor import FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message

from gateway.descriptors import Binding, Contracts
from gateway.settings import bundled_descriptors
from gateway.templates import Match, PathTemplate, RouteConflict, Router, TemplateError, parse

# The contract's own words for an RPC anyone may call (login, refresh, JWKS):
# a contract test keeps these comments and the services' access rules equal.
PUBLIC = re.compile(r"Roles:\s*none:\s*public", re.IGNORECASE)
VERSION = re.compile(r"v\d+(?:(?:alpha|beta)\d*)?")


class RouteError(ValueError):
    """The contracts cannot be served: a bad template, a bad body field, or two
    bindings that could match the same request."""


@dataclass(frozen=True, eq=False)
class Route:
    http_method: str
    template: PathTemplate
    body: str  # "" (no body), "*" (the whole request) or a top-level field name
    response_body: str  # "" (the whole response) or a top-level field name
    method: MethodDescriptor
    grpc_path: str  # "/stockmesh.stock.v1.StockService/GetStockLevel"
    service: str  # the peer that serves it, e.g. "stock"
    public: bool  # callable without a token
    request_class: type[Message]
    response_class: type[Message]

    @property
    def streaming(self) -> bool:
        return bool(self.method.server_streaming)

    @property
    def body_field(self) -> FieldDescriptor | None:
        if self.body in ("", "*"):
            return None
        return self.method.input_type.fields_by_name[self.body]

    def __str__(self) -> str:
        return f"{self.method.full_name} ({self.http_method} {self.template.text})"


class RouteTable:
    def __init__(self, contracts: Contracts) -> None:
        self.contracts = contracts
        self.routes: list[Route] = []
        self._router: Router[Route] = Router()
        for binding in contracts.bindings():
            route = _route(contracts, binding)
            try:
                self._router.add(route.http_method, route.template, route)
            except RouteConflict as exc:
                raise RouteError(
                    f"two HTTP rules could match the same request: {exc.first} and {exc.second}"
                ) from None
            self.routes.append(route)

    @classmethod
    def load(cls, path: Path | None = None) -> RouteTable:
        return cls(Contracts.load(path or bundled_descriptors()))

    def match(self, http_method: str, raw_path: str) -> Match[Route] | None:
        return self._router.match(http_method, raw_path)

    def allowed_methods(self, raw_path: str) -> list[str]:
        return self._router.allowed_methods(raw_path)


def load(path: Path | None = None) -> list[Route]:
    """Every route of the descriptor set at `path` (default: the bundled one)."""
    return RouteTable.load(path).routes


def service_of(package: str) -> str:
    """The peer serving a package: its last part before the version."""
    parts = [p for p in package.split(".") if p and not VERSION.fullmatch(p)]
    if not parts:
        raise RouteError(f"package {package!r} names no service")
    return parts[-1]


def _route(contracts: Contracts, binding: Binding) -> Route:
    method = binding.method
    try:
        template = parse(binding.template)
    except TemplateError as exc:
        raise RouteError(f"{method.full_name}: {exc}") from None
    request = method.input_type
    for variable in template.variables:
        _check_path(method, request, variable.field_path, "path variable")
    for name, what in ((binding.body, "body"), (binding.response_body, "response_body")):
        if name in ("", "*") or (what == "response_body" and name == ""):
            continue
        owner = request if what == "body" else method.output_type
        if name not in owner.fields_by_name:
            raise RouteError(f"{method.full_name}: {what} {name!r} is not a field of {owner.full_name}")
    if binding.response_body == "*":
        raise RouteError(f"{method.full_name}: response_body cannot be '*'")
    service = method.containing_service
    return Route(
        http_method=binding.http_method,
        template=template,
        body=binding.body,
        response_body=binding.response_body,
        method=method,
        grpc_path=f"/{service.full_name}/{method.name}",
        service=service_of(service.file.package),
        public=bool(PUBLIC.search(contracts.comment(method))),
        request_class=contracts.message_class(request),
        response_class=contracts.message_class(method.output_type),
    )


def _check_path(method: MethodDescriptor, message: object, path: tuple[str, ...], what: str) -> None:
    descriptor = message
    for i, name in enumerate(path):
        fields = getattr(descriptor, "fields_by_name", {})
        field = fields.get(name)
        if field is None:
            raise RouteError(f"{method.full_name}: {what} {'.'.join(path)!r} is not a field")
        if i < len(path) - 1:
            if field.message_type is None or field.is_repeated:
                raise RouteError(
                    f"{method.full_name}: {what} {'.'.join(path)!r} passes through a non-message"
                )
            descriptor = field.message_type
        elif field.message_type is not None or field.is_repeated:
            # A path segment holds one value: http.proto allows singular primitives only.
            raise RouteError(f"{method.full_name}: {what} {'.'.join(path)!r} must be a singular primitive")
