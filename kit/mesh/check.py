"""`stockmesh mesh check`: every problem of the mesh's policy files, before
the cluster or the local runtime meets them.

Checks that the files parse for the local runtime; that the namespace
requires mutual TLS and denies by default; that every registered service has
its AuthorizationPolicy, DestinationRule, VirtualService and Sidecar, in the
shape the rollout and circuit breaking rely on; that policies name real
accounts and real RPCs (kit.mesh.check_access); that routes retry only what
is safe (kit.mesh.check_routes); and that every resource fits Istio's CRD
schemas (kit.mesh.schemas).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kit import services
from kit.mesh import authz, files, rpcs, traffic, workloads
from kit.mesh.authz import Policy
from kit.mesh.check_access import path_problems, principal_problems, sidecar_problems
from kit.mesh.check_routes import destination_rule_problems, retry_problems, virtual_service_problems
from kit.mesh.files import PolicyError, Resource
from kit.mesh.schemas import SchemaCheckUnavailable, schema_errors
from kit.mesh.workloads import NAMESPACE, mapping

# What a malformed shape raises in the runtime's readers besides PolicyError
# (a string where a list belongs, a word where a number does): reported,
# never a crash.
_UNREADABLE = (ValueError, TypeError, AttributeError)


def problems(directory: Path, *, descriptors: Path | None = None, schemas: bool = True) -> list[str]:
    """Every problem found, one line each naming its file#index and
    resource (or the folder, for what is missing); empty when all pass."""
    try:
        resources = files.read(directory)
    except PolicyError as exc:
        return [str(exc)]
    found: list[str] = []
    policies = _policies(resources, found)
    parsed = {p.source for p in policies}
    unreadable = {
        app
        for r in resources
        if r.kind == authz.KIND and r.source not in parsed and (app := workloads.app_of(r)) is not None
    }
    found += _traffic_problems(resources, directory)
    found += _namespace_problems(resources, policies, directory)
    found += _presence_problems(resources, directory)
    found += destination_rule_problems(resources)
    found += virtual_service_problems(resources)
    found += principal_problems(policies)
    try:
        catalogue = rpcs.load(descriptors, services.available())
    except rpcs.DescriptorError as exc:
        found.append(f"{exc}: the paths and retries were not checked")
    else:
        found += path_problems(policies, catalogue)
        found += retry_problems(resources, catalogue)
    found += sidecar_problems(resources, policies, unreadable)
    if schemas:
        found += _schema_problems(resources)
    return found


def _policies(resources: Sequence[Resource], found: list[str]) -> list[Policy]:
    """Each AuthorizationPolicy the runtime can enforce; the others as problems."""
    parsed: list[Policy] = []
    for resource in resources:
        if resource.kind != authz.KIND:
            continue
        try:
            parsed.append(authz.parse(resource))
        except PolicyError as exc:
            found.append(str(exc))
        except _UNREADABLE as exc:
            found.append(f"{resource.where}: the local runtime cannot read it: {exc}")
    return parsed


def _traffic_problems(resources: Sequence[Resource], directory: Path) -> list[str]:
    found: list[str] = []
    for account in workloads.service_accounts():
        host = workloads.host(account)
        try:
            traffic.client_policy(resources, host)
        except PolicyError as exc:
            found.append(str(exc))
        except _UNREADABLE as exc:
            found.append(f"{directory}: the local runtime cannot read the policy of calls to {host}: {exc}")
    return found


def _namespace_problems(
    resources: Sequence[Resource], policies: Sequence[Policy], directory: Path
) -> list[str]:
    found: list[str] = []
    strict = False
    for resource in resources:
        if resource.kind != "PeerAuthentication" or resource.namespace != NAMESPACE:
            continue
        mode = mapping(resource.spec.get("mtls")).get("mode")
        if mode != "STRICT":
            found.append(f"{resource.where}: mtls mode {mode} weakens the namespace's mutual TLS")
        elif "selector" not in resource.spec:
            strict = True
    if not strict:
        found.append(
            f"{directory}: namespace {NAMESPACE} has no PeerAuthentication with mtls mode STRICT "
            "and no selector"
        )
    # ALLOW with no rules matches nothing: every request needs a workload's own allow.
    if not any(
        p.namespace == NAMESPACE and p.selector is None and p.action == "ALLOW" and not p.rules
        for p in policies
    ):
        found.append(
            f"{directory}: namespace {NAMESPACE} has no default-deny AuthorizationPolicy "
            "(ALLOW with no rules and no selector)"
        )
    return found


def _presence_problems(resources: Sequence[Resource], directory: Path) -> list[str]:
    found: list[str] = []
    ours = [r for r in resources if r.namespace == NAMESPACE]
    for account, name in workloads.service_accounts().items():
        host = workloads.host(account)
        wanted = {
            f"an AuthorizationPolicy selecting app: {account}": [
                r for r in ours if r.kind == authz.KIND and workloads.app_of(r) == account
            ],
            f"a DestinationRule for {host}": [
                r for r in ours if r.kind == "DestinationRule" and r.spec.get("host") == host
            ],
            f"a VirtualService for {host}": [
                r for r in ours if r.kind == "VirtualService" and host in workloads.items(r.spec.get("hosts"))
            ],
            f"a Sidecar selecting app: {account}": [
                r for r in ours if r.kind == "Sidecar" and workloads.app_of(r) == account
            ],
        }
        for what, present in wanted.items():
            if not present:
                found.append(f"{directory}: service {name} lacks {what} in namespace {NAMESPACE}")
            # Several policies for a workload add up; several of the others
            # do not: the runtime reads the first, Istio picks or merges.
            elif len(present) > 1 and present[0].kind != authz.KIND:
                found.extend(
                    f"{extra.where}: {what.partition(' ')[2]} besides {present[0].source}: only one "
                    "takes effect"
                    for extra in present[1:]
                )
    return found


def _schema_problems(resources: Sequence[Resource]) -> list[str]:
    try:
        return schema_errors(resources)
    except SchemaCheckUnavailable as exc:
        # Nothing was checked: a failure, so CI cannot pass without it.
        return [f"the Istio schema check is unavailable: {exc}"]
