"""Who is who in the mesh's policy: its namespace, the accounts that call
the services, how a policy names them, and which workload a resource is for.

Learned from the service registry (kit.services), never by a service's name,
so a new service is covered by the checks without changing them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kit import services
from kit.mesh.authz import ISTIO_DEFAULT_TRUST_DOMAIN
from kit.mesh.files import Resource
from kit.mesh.traffic import host_of
from kit.settings import DEFAULT_NAMESPACE, service_account
from kit.supervisor import DEV_CLIENT, GATEWAY

NAMESPACE = DEFAULT_NAMESPACE
# Istio's ingress gateway, the only caller from outside the namespace.
INGRESS = f"{ISTIO_DEFAULT_TRUST_DOMAIN}/ns/istio-system/sa/istio-ingressgateway-service-account"
# The cluster's REST edge: Envoy transcoding the same routes as the gateway
# (gateway/envoy/). Only the cluster runs it; `stockmesh up` has the gateway.
EDGE = "edge"
# The workloads that answer HTTP from outside, not gRPC calls: their policies
# name no gRPC methods.
EDGES = (GATEWAY, EDGE)


def principal(account: str) -> str:
    """An account of the namespace as an AuthorizationPolicy writes it."""
    return f"{ISTIO_DEFAULT_TRUST_DOMAIN}/ns/{NAMESPACE}/sa/{account}"


def host(account: str) -> str:
    return host_of(account, NAMESPACE)


def service_accounts() -> dict[str, str]:
    """Each registered service's account, with its name: {"svc-stock": "stock"}."""
    return {service_account(name): name for name in services.available()}


def callers() -> list[str]:
    """Every account that calls services: the edges first, then the services
    in start order."""
    return [*EDGES, DEV_CLIENT, *service_accounts()]


def app_of(resource: Resource) -> str | None:
    """The `app` label a policy or Sidecar selects (None: every workload),
    read from the YAML as written, so a resource that does not parse still
    counts as present."""
    if resource.kind == "Sidecar":
        labels = mapping(mapping(resource.spec.get("workloadSelector")).get("labels"))
    else:
        labels = mapping(mapping(resource.spec.get("selector")).get("matchLabels"))
    app = labels.get("app")
    return str(app) if app is not None else None


def mapping(value: Any) -> Mapping[str, Any]:
    """`value` if the YAML has a mapping there; malformed shapes are the
    schema check's to report, not a crash here."""
    return value if isinstance(value, Mapping) else {}


def items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
