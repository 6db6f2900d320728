"""The Envoy edge as loaded (its listener, HTTP filters, routes and clusters),
how Envoy matches a path to a route, and the contracts in proto/ the edge is
checked against."""

from __future__ import annotations

import dataclasses
import functools
import importlib
import re
from collections.abc import Iterator
from typing import Any

import pytest
from google.api import annotations_pb2
from google.protobuf.descriptor import MethodDescriptor

from tests.support.envoy_config import ROOT

PROTO = ROOT / "proto"
TRANSCODER = "envoy.filters.http.grpc_json_transcoder"
JWT = "envoy.filters.http.jwt_authn"
RATE_LIMIT = "envoy.filters.http.local_ratelimit"
FILTERS = ["envoy.filters.http.cors", JWT, RATE_LIMIT, TRANSCODER, "envoy.filters.http.router"]
PROVIDER = "stockmesh-user"


@dataclasses.dataclass
class Edge:
    bootstrap: Any

    @property
    def listener(self) -> Any:
        (listener,) = self.bootstrap.static_resources.listeners
        return listener

    @functools.cached_property
    def hcm(self) -> Any:
        (chain,) = self.listener.filter_chains
        (network,) = chain.filters
        return network.typed_config.unpack()

    @functools.cached_property
    def filters(self) -> dict[str, Any]:
        return {f.name: f.typed_config.unpack() for f in self.hcm.http_filters}

    def filter(self, name: str) -> Any:
        return self.filters[name]

    @property
    def routes(self) -> list[Any]:
        (host,) = self.hcm.route_config.virtual_hosts
        return host.routes

    @property
    def clusters(self) -> dict[str, Any]:
        return {cluster.name: cluster for cluster in self.bootstrap.static_resources.clusters}


def matches(match: Any, path: str) -> bool:
    """RouteMatch on a path, as Envoy does it for the matchers this config uses."""
    assert not match.headers, "only path, prefix and safe_regex matches are simulated"
    assert not match.query_parameters
    assert match.grpc is None
    if match.path is not None:
        return path == match.path
    if match.prefix is not None:
        return path.startswith(match.prefix)
    assert match.safe_regex is not None, "only path, prefix and safe_regex matches are simulated"
    return re.fullmatch(match.safe_regex.regex, path) is not None


def route_of(edge: Edge, path: str) -> Any:
    return next((route for route in edge.routes if matches(route.match, path)), None)


# --- The contracts -------------------------------------------------------------------------------


@functools.cache
def proto_services() -> dict[str, list[MethodDescriptor]]:
    """Every service in proto/ with its methods, from the generated modules."""
    out = {}
    for path in sorted(PROTO.rglob("*.proto")):
        module = importlib.import_module(
            str(path.relative_to(PROTO).with_suffix("")).replace("/", ".") + "_pb2"
        )
        for service in module.DESCRIPTOR.services_by_name.values():
            out[service.full_name] = list(service.methods)
    return out


@functools.cache
def public_rpcs() -> frozenset[str]:
    """Full names of the RPCs whose comment in proto/ says "Roles: none: public."."""
    out = set()
    for path in PROTO.rglob("*.proto"):
        text = path.read_text()
        package = re.search(r"^package ([\w.]+);", text, re.MULTILINE).group(1)  # type: ignore[union-attr]
        for service, body in re.findall(r"^service (\w+) \{(.*?)^\}", text, re.MULTILINE | re.DOTALL):
            for comment, rpc in re.findall(r"((?:[ \t]*//[^\n]*\n)+)[ \t]*rpc (\w+)\(", body):
                if re.search(r"\bRoles:\s*none:\s*public\.", comment):
                    out.add(f"{package}.{service}.{rpc}")
    return frozenset(out)


def bindings(method: Any) -> Iterator[tuple[str, str]]:
    """(HTTP method, path template) of a method's rule and its additional_bindings."""
    options = method.GetOptions() if isinstance(method, MethodDescriptor) else method.options
    rule = options.Extensions[annotations_pb2.http]
    for one in (rule, *rule.additional_bindings):
        kind = one.WhichOneof("pattern")
        if kind == "custom":
            yield one.custom.kind, one.custom.path
        elif kind is not None:
            yield kind.upper(), getattr(one, kind)


def sample_path(template: str) -> str:
    """A request path the template matches: `/v1/{name=products/*}:archive` -> `/v1/products/x:archive`."""
    filled = re.sub(r"\{[^}=]+(?:=([^}]*))?\}", lambda m: m.group(1) or "*", template)
    return filled.replace("**", "x/y").replace("*", "x")


def contract_routes() -> list[tuple[MethodDescriptor, str, str]]:
    return [
        (method, verb, template)
        for methods in proto_services().values()
        for method in methods
        for verb, template in bindings(method)
    ]


each_rest_route = pytest.mark.parametrize(
    ("method", "verb", "template"), contract_routes(), ids=lambda v: getattr(v, "name", v)
)
