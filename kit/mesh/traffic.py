"""How a client calls a service: the VirtualService's routes (match,
timeout, retries) and the DestinationRule's connection-pool limits and
outlier detection, for one host.

Locally every subset is the one process of the service: routes decide the
timeout and the retries, not where the call goes. Weighted splits and
subsets take effect in the cluster only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kit.mesh.fields import StringMatch, duration, only, string_match
from kit.mesh.files import PolicyError, Resource

# Envoy's retry conditions as a gRPC client meets them: the status every
# transport failure arrives as (UNAVAILABLE), a per-try timeout (which Envoy
# treats as a reset), and the grpc-status conditions.
RETRY_CONDITIONS = frozenset(
    {
        "connect-failure",
        "refused-stream",
        "reset",
        "unavailable",
        "cancelled",
        "deadline-exceeded",
        "internal",
        "resource-exhausted",
    }
)
# Istio's retry policy for a route that states none.
ISTIO_DEFAULT_RETRY_ON = frozenset({"connect-failure", "refused-stream", "unavailable", "cancelled"})
ISTIO_DEFAULT_ATTEMPTS = 2
# Istio's connection timeout when a DestinationRule states none.
ISTIO_CONNECT_TIMEOUT = 10.0
# Envoy's default outlier detection interval and longest ejection.
ENVOY_INTERVAL = 10.0
ENVOY_MAX_EJECTION = 300.0


@dataclass(frozen=True)
class Retries:
    attempts: int  # retries after the first try
    per_try_timeout: float | None
    retry_on: frozenset[str]


@dataclass(frozen=True)
class Match:
    uri: StringMatch | None = None
    headers: Mapping[str, StringMatch] = field(default_factory=dict)

    def __call__(self, path: str, metadata: Mapping[str, str]) -> bool:
        if self.uri is not None and not self.uri(path):
            return False
        return all(match(metadata.get(name)) for name, match in self.headers.items())


@dataclass(frozen=True)
class Route:
    name: str
    matches: tuple[Match, ...]  # empty: every call
    timeout: float | None  # None: no deadline of its own (0s)
    retries: Retries

    def takes(self, path: str, metadata: Mapping[str, str]) -> bool:
        return not self.matches or any(m(path, metadata) for m in self.matches)


@dataclass(frozen=True)
class Outlier:
    consecutive_5xx: int | None
    consecutive_gateway: int | None
    interval: float
    base_ejection: float
    max_ejection: float


@dataclass(frozen=True)
class ClientPolicy:
    host: str
    routes: tuple[Route, ...]
    max_requests: int | None  # connectionPool.http.http2MaxRequests
    max_retries: int | None  # connectionPool.http.maxRetries: retries in flight at once
    outlier: Outlier | None
    connect_timeout: float = ISTIO_CONNECT_TIMEOUT  # connectionPool.tcp.connectTimeout

    def route(self, path: str, metadata: Mapping[str, str]) -> Route:
        for route in self.routes:
            if route.takes(path, metadata):
                return route
        return DEFAULT_ROUTE


DEFAULT_ROUTE = Route(
    "istio-default", (), None, Retries(ISTIO_DEFAULT_ATTEMPTS, None, ISTIO_DEFAULT_RETRY_ON)
)


def host_of(account: str, namespace: str) -> str:
    """The cluster name of a service's Kubernetes Service."""
    return f"{account}.{namespace}.svc.cluster.local"


def client_policy(resources: Iterable[Resource], host: str) -> ClientPolicy:
    """The policy of calls to `host`: the first VirtualService and
    DestinationRule naming it (Istio merges none either)."""
    routes: tuple[Route, ...] = ()
    max_requests = max_retries = None
    outlier = None
    connect_timeout = ISTIO_CONNECT_TIMEOUT
    found = list(resources)
    for resource in found:
        if resource.kind == "VirtualService" and host in (resource.spec.get("hosts") or []):
            routes = virtual_service_routes(resource)
            break
    for resource in found:
        if resource.kind == "DestinationRule" and resource.spec.get("host") == host:
            max_requests, max_retries, connect_timeout, outlier = destination_limits(resource)
            break
    return ClientPolicy(host, routes, max_requests, max_retries, outlier, connect_timeout)


def virtual_service_routes(resource: Resource) -> tuple[Route, ...]:
    where = f"{resource.source} VirtualService {resource.name}"
    only(resource.spec, {"hosts", "http", "gateways", "exportTo"}, f"{where}: spec")
    routes = []
    for i, body in enumerate(resource.spec.get("http") or []):
        at = f"{where}: http[{i}]"
        only(body, {"name", "match", "route", "timeout", "retries"}, at)
        matches = tuple(_match(m, f"{at}.match[{j}]") for j, m in enumerate(body.get("match") or []))
        timeout = duration(body["timeout"], f"{at}.timeout") if "timeout" in body else None
        routes.append(
            Route(
                str(body.get("name", f"http[{i}]")),
                matches,
                timeout or None,
                _retries(body.get("retries"), at),
            )
        )
    return tuple(routes)


def _match(body: Mapping[str, Any], where: str) -> Match:
    only(body, {"name", "uri", "headers"}, where)
    uri = string_match(body["uri"], f"{where}.uri") if "uri" in body else None
    headers = {
        str(name).lower(): string_match(value, f"{where}.headers.{name}")
        for name, value in (body.get("headers") or {}).items()
    }
    return Match(uri, headers)


def _retries(body: Mapping[str, Any] | None, where: str) -> Retries:
    if body is None:
        return DEFAULT_ROUTE.retries
    only(body, {"attempts", "perTryTimeout", "retryOn"}, f"{where}.retries")
    attempts = int(body.get("attempts", ISTIO_DEFAULT_ATTEMPTS))
    per_try = (
        duration(body["perTryTimeout"], f"{where}.retries.perTryTimeout") if "perTryTimeout" in body else None
    )
    retry_on = frozenset(c.strip() for c in str(body.get("retryOn", "")).split(",") if c.strip())
    unknown = sorted(retry_on - RETRY_CONDITIONS)
    if unknown:
        raise PolicyError(f"{where}.retries.retryOn: {', '.join(unknown)} not applied by the local runtime")
    return Retries(attempts, per_try or None, retry_on or ISTIO_DEFAULT_RETRY_ON)


def destination_limits(resource: Resource) -> tuple[int | None, int | None, float, Outlier | None]:
    """Calls and retries in flight at most, the connect timeout, and the
    outlier detection of a DestinationRule."""
    where = f"{resource.source} DestinationRule {resource.name}"
    only(resource.spec, {"host", "trafficPolicy", "subsets", "exportTo"}, f"{where}: spec")
    policy = resource.spec.get("trafficPolicy") or {}
    only(policy, {"tls", "connectionPool", "outlierDetection", "loadBalancer"}, f"{where}: trafficPolicy")
    pool = policy.get("connectionPool") or {}
    http = pool.get("http") or {}
    max_requests = int(http["http2MaxRequests"]) if "http2MaxRequests" in http else None
    max_retries = int(http["maxRetries"]) if "maxRetries" in http else None
    tcp = pool.get("tcp") or {}
    connect_timeout = (
        duration(tcp["connectTimeout"], f"{where}: connectTimeout")
        if "connectTimeout" in tcp
        else ISTIO_CONNECT_TIMEOUT
    )
    body = policy.get("outlierDetection")
    if body is None:
        return max_requests, max_retries, connect_timeout, None
    at = f"{where}: outlierDetection"
    only(
        body,
        {
            "consecutive5xxErrors",
            "consecutiveGatewayErrors",
            "interval",
            "baseEjectionTime",
            "maxEjectionPercent",
        },
        at,
    )
    outlier = Outlier(
        # Istio's default: five server faults in a row.
        consecutive_5xx=int(body.get("consecutive5xxErrors", 5)) or None,
        consecutive_gateway=int(body["consecutiveGatewayErrors"])
        if "consecutiveGatewayErrors" in body
        else None,
        interval=duration(body["interval"], f"{at}.interval") if "interval" in body else ENVOY_INTERVAL,
        base_ejection=duration(body.get("baseEjectionTime", "30s"), f"{at}.baseEjectionTime"),
        max_ejection=ENVOY_MAX_EJECTION,
    )
    return max_requests, max_retries, connect_timeout, outlier
