"""`stockmesh mesh check`'s view of who may call what: every principal names
a real account, every path a real RPC of the workload it guards, and every
Sidecar lets its workload reach exactly the services it may call."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from kit.mesh import workloads
from kit.mesh.authz import Policy, Rule
from kit.mesh.files import Resource
from kit.mesh.rpcs import HEALTH, INFRASTRUCTURE, Catalogue, Rpc
from kit.settings import service_account

# `<namespace>/*`: everything a namespace exports (the data stores,
# istio-system's control plane); never `*/*`, which would undo the Sidecar.
_NAMESPACE_WILDCARD = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?/\*$")


def _at(policy: Policy) -> str:
    return f"{policy.source} AuthorizationPolicy {policy.name}"


def principal_problems(policies: Sequence[Policy]) -> list[str]:
    known = {workloads.principal(a) for a in workloads.callers()} | {workloads.INGRESS}
    found: list[str] = []
    for policy in policies:
        for index, rule in enumerate(policy.rules):
            where = f"{_at(policy)}: rules[{index}]"
            for source in rule.sources:
                for principal in (*source.principals, *source.not_principals):
                    if "*" in principal:
                        found.append(f"{where}: principal {principal} is too broad: name a service account")
                    elif principal not in known:
                        found.append(
                            f"{where}: principal {principal} is not the account of a registered service, "
                            "the gateway, the edge, dev-client or the ingress gateway"
                        )
            # A DENY rule open to anyone only narrows what is allowed.
            if policy.action == "ALLOW" and _open_to_anyone(rule) and not _health_only(rule):
                found.append(
                    f"{where}: admits any caller (no from, or a source without principals); only "
                    f"{HEALTH}/* may be open to anyone"
                )
    return found


def _open_to_anyone(rule: Rule) -> bool:
    return not rule.sources or any(not source.principals for source in rule.sources)


def _health_only(rule: Rule) -> bool:
    return bool(rule.operations) and all(
        operation.paths and all(p.startswith(f"/{HEALTH}/") for p in operation.paths)
        for operation in rule.operations
    )


def path_problems(policies: Sequence[Policy], rpcs: Catalogue) -> list[str]:
    accounts = workloads.service_accounts()
    found: list[str] = []
    for policy in policies:
        if policy.namespace != workloads.NAMESPACE:
            continue  # another namespace's workloads are not ours to know
        app = (policy.selector or {}).get("app")
        if app in workloads.EDGES:
            continue  # the REST edges' policies guard HTTP, not gRPC methods
        if policy.selector is None:
            # Namespace-wide: a path must be some workload's.
            own: tuple[Rpc, ...] = tuple(r for name in accounts.values() for r in rpcs.of(name))
            workload = "any workload"
        elif app in accounts:
            own, workload = rpcs.of(accounts[app]), app
        else:
            selects = f"app: {app}" if app is not None else f"{dict(policy.selector)} (no app label)"
            found.append(f"{_at(policy)}: selects {selects}, which is no registered service nor a REST edge")
            continue
        for index, rule in enumerate(policy.rules):
            for operation in rule.operations:
                for path in (*operation.paths, *operation.not_paths):
                    problem = _path_problem(path, own, workload, rpcs)
                    if problem:
                        found.append(f"{_at(policy)}: rules[{index}]: path {path} {problem}")
    return found


def _path_problem(path: str, own: Sequence[Rpc], workload: str, rpcs: Catalogue) -> str | None:
    service, slash, method = path.removeprefix("/").partition("/")
    if not path.startswith("/") or not slash or not service or not method or "/" in method:
        return "is not a gRPC method path (/package.Service/Method or /package.Service/*)"
    if "*" in service or ("*" in method and method != "*"):
        return "is a partial wildcard: name a method, or a whole service with /package.Service/*"
    if service in INFRASTRUCTURE:
        known = INFRASTRUCTURE[service]
    elif any(r.service == service for r in own):
        known = frozenset(r.method for r in own if r.service == service)
    else:
        owner = rpcs.owner(service)
        if owner is not None:
            return f"is an RPC of {service_account(owner)}, not of {workload}"
        return f"names no service of {workload} (its services: {_services(own)})"
    return None if method == "*" or method in known else f"names no RPC of {service}"


def _services(own: Sequence[Rpc]) -> str:
    return ", ".join(sorted({r.service for r in own})) or "none"


def sidecar_problems(
    resources: Sequence[Resource], policies: Sequence[Policy], unreadable: Collection[str] = ()
) -> list[str]:
    """`unreadable`: the services whose policy did not parse; who may call
    them is unknown, so their hosts are neither required nor refused."""
    accounts = [a for a in workloads.service_accounts() if a not in unreadable]
    found: list[str] = []
    for resource in resources:
        if resource.kind != "Sidecar" or resource.namespace != workloads.NAMESPACE:
            continue
        app = workloads.app_of(resource)
        declared: set[str] = set()
        for entry in workloads.items(resource.spec.get("egress")):
            for host in workloads.items(workloads.mapping(entry).get("hosts")):
                if str(host).startswith("./"):
                    declared.add(str(host)[2:])
                elif not _NAMESPACE_WILDCARD.match(str(host)):
                    found.append(
                        f"{resource.where}: egress host {host} must be ./<service host> or <namespace>/*"
                    )
        if app is None:
            found.append(f"{resource.where}: selects no workload (workloadSelector labels app)")
            continue
        allowed = {workloads.host(callee) for callee in accounts if _admits(policies, callee, app)}
        found.extend(
            f"{resource.where}: egress host ./{host} is not a service {app} may call "
            f"(no AuthorizationPolicy of it names {app} as a principal)"
            for host in sorted(declared - allowed - {workloads.host(a) for a in unreadable})
        )
        found.extend(
            f"{resource.where}: egress lacks ./{host}, a service {app} may call"
            for host in sorted(allowed - declared)
        )
    return found


def _admits(policies: Sequence[Policy], callee: str, caller: str) -> bool:
    """`caller`'s account is a principal of an ALLOW rule of `callee`'s policy."""
    wanted = workloads.principal(caller)
    return any(
        policy.action == "ALLOW"
        and policy.namespace == workloads.NAMESPACE
        and (policy.selector or {}).get("app") == callee
        and any(wanted in source.principals for rule in policy.rules for source in rule.sources)
        for policy in policies
    )
