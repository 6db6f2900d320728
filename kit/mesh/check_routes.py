"""`stockmesh mesh check`'s view of how services are called: every service's
DestinationRule and VirtualService have the shape the rollout and the
circuit breaking rely on, and every route retries only what is safe."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from kit.mesh import traffic, workloads
from kit.mesh.fields import StringMatch
from kit.mesh.files import Resource
from kit.mesh.rpcs import Catalogue, Rpc
from kit.mesh.workloads import items, mapping

SUBSETS = ("v1", "v2")
# A try that failed so never reached the service: repeating it cannot
# apply anything twice, whatever the method.
ALWAYS_SAFE = frozenset({"connect-failure", "refused-stream"})
# How many method names a message lists before "+N more".
_SHOWN = 5


def destination_rule_problems(resources: Sequence[Resource]) -> list[str]:
    hosts = {workloads.host(account) for account in workloads.service_accounts()}
    found: list[str] = []
    for resource in resources:
        if resource.kind != "DestinationRule":
            continue
        policy = mapping(resource.spec.get("trafficPolicy"))
        # Under STRICT mTLS a client must present the mesh's certificate.
        mode = mapping(policy.get("tls")).get("mode")
        if mode != "ISTIO_MUTUAL":
            found.append(f"{resource.where}: trafficPolicy.tls.mode is {mode}, not ISTIO_MUTUAL")
        if resource.spec.get("host") not in hosts:
            continue  # the gateway's rule: one version, no circuit breaking of its own
        for key in ("outlierDetection", "connectionPool"):
            if not mapping(policy.get(key)):
                found.append(f"{resource.where}: no trafficPolicy.{key}")
        names = {mapping(s).get("name") for s in items(resource.spec.get("subsets"))}
        found.extend(f"{resource.where}: no subset {name}" for name in SUBSETS if name not in names)
    return found


def virtual_service_problems(resources: Sequence[Resource]) -> list[str]:
    service_hosts = {workloads.host(account) for account in workloads.service_accounts()}
    subsets: dict[str, set[str]] = {}
    for resource in resources:
        if resource.kind == "DestinationRule":
            names = {str(mapping(s).get("name")) for s in items(resource.spec.get("subsets"))}
            # The first rule for a host, as traffic.client_policy reads it.
            subsets.setdefault(str(resource.spec.get("host")), names)
    found: list[str] = []
    for resource in resources:
        if resource.kind != "VirtualService":
            continue
        canary = split = False
        for index, route in enumerate(items(resource.spec.get("http"))):
            where = f"{resource.where}: http[{index}]"
            targets = [mapping(t) for t in items(mapping(route).get("route"))]
            destinations = [mapping(t.get("destination")) for t in targets]
            weights = [t.get("weight") for t in targets]
            chosen = [d.get("subset") for d in destinations]
            for destination in destinations:
                found.extend(_subset_problem(where, destination, resource.namespace, subsets))
            # A bool is an int to Python, not a weight to Istio.
            whole = [w for w in weights if isinstance(w, int) and not isinstance(w, bool)]
            weighed = len(whole) == len(weights) and sum(whole) == 100
            if len(destinations) > 1 and not weighed:
                found.append(f"{where}: the weights of its destinations must sum to 100, not {weights}")
            headers = any(mapping(m).get("headers") for m in items(mapping(route).get("match")))
            canary = canary or (headers and bool(chosen) and all(s == "v2" for s in chosen))
            split = split or (weighed and sorted(map(str, chosen)) == list(SUBSETS))
        if service_hosts & set(map(str, items(resource.spec.get("hosts")))):
            if not canary:
                found.append(f"{resource.where}: no route with a header match sending to subset v2")
            if not split:
                found.append(f"{resource.where}: no route splitting by weight between subsets v1 and v2")
    return found


def _subset_problem(
    where: str, destination: Mapping[str, Any], namespace: str, subsets: Mapping[str, set[str]]
) -> Iterator[str]:
    subset = destination.get("subset")
    if subset is None:
        return
    host = str(destination.get("host"))
    # A short name is a Service of the VirtualService's own namespace.
    full = host if "." in host else traffic.host_of(host, namespace)
    if full not in subsets:
        yield f"{where}: subset {subset} of {host}, which has no DestinationRule"
    elif str(subset) not in subsets[full]:
        yield f"{where}: subset {subset} is not defined by the DestinationRule of {host}"


def retry_problems(resources: Sequence[Resource], rpcs: Catalogue) -> list[str]:
    found: list[str] = []
    for account, name in workloads.service_accounts().items():
        host = workloads.host(account)
        # The first VirtualService naming the host, as traffic.client_policy reads it.
        service = next(
            (r for r in resources if r.kind == "VirtualService" and host in items(r.spec.get("hosts"))),
            None,
        )
        if service is None:
            continue
        try:
            routes = traffic.virtual_service_routes(service)
        except (ValueError, TypeError, AttributeError):  # PolicyError is a ValueError
            continue  # reported as unreadable already
        for route, receives in receivable(routes, rpcs.of(name)):
            found.extend(_route_problems(f"{service.where}: route {route.name}", route, receives))
    return found


def _route_problems(where: str, route: traffic.Route, receives: Sequence[Rpc]) -> Iterator[str]:
    retries = route.retries
    streams = [r for r in receives if r.streaming]
    if streams and (retries.attempts != 0 or route.timeout is not None):
        # A stream's messages may already be handed on: a retry would
        # repeat them, and a route timeout would cut a live stream.
        yield (
            f"{where}: receives the streaming {_names(streams)}, so needs retries.attempts 0 and "
            f"timeout 0s (has attempts {retries.attempts}, timeout {route.timeout or 0:g}s)"
        )
    risky = sorted(retries.retry_on - ALWAYS_SAFE)
    unsafe = [r for r in receives if not r.idempotent]
    if retries.attempts > 0 and risky and unsafe:
        yield (
            f"{where}: retries on {', '.join(risky)} (the call may have taken effect) but receives "
            f"{_names(unsafe)}, which may apply twice: no request_id, no idempotency_level, "
            "not a read by name"
        )


def receivable(routes: Sequence[traffic.Route], rpcs: Sequence[Rpc]) -> list[tuple[traffic.Route, list[Rpc]]]:
    """Each route with the RPCs that can reach it. The first matching route
    takes a call (as in Istio): a match of a later route never sees an RPC
    that an earlier match on its path takes under conditions the later one
    implies (its headers a subset of the later match's headers)."""
    taken: list[tuple[str, Mapping[str, StringMatch]]] = []
    found: list[tuple[traffic.Route, list[Rpc]]] = []
    for route in routes:
        matches = route.matches or (traffic.Match(),)
        found.append(
            (
                route,
                [r for r in rpcs if any(_on_path(m, r) and not _covered(r, m, taken) for m in matches)],
            )
        )
        taken += [(r.path, m.headers) for m in matches for r in rpcs if _on_path(m, r)]
    return found


def _covered(rpc: Rpc, match: traffic.Match, taken: Sequence[tuple[str, Mapping[str, StringMatch]]]) -> bool:
    return any(
        path == rpc.path and all(match.headers.get(name) == wanted for name, wanted in headers.items())
        for path, headers in taken
    )


def _on_path(match: traffic.Match, rpc: Rpc) -> bool:
    return match.uri is None or match.uri(rpc.path)


def _names(rpcs: Sequence[Rpc]) -> str:
    names = [r.method for r in rpcs]
    shown = ", ".join(names[:_SHOWN])
    return shown if len(names) <= _SHOWN else f"{shown} +{len(names) - _SHOWN} more"
