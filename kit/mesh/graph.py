"""`stockmesh mesh graph`: who may call what, derived from the
AuthorizationPolicies exactly as kit.mesh.authz decides (so as Istio does),
for every caller account and every RPC of every service's contracts.

gRPC's health and reflection services are left out: they are open to
probes and tools, not calls between services.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kit import services
from kit.mesh import authz, files, rpcs, workloads
from kit.mesh.rpcs import Catalogue, Rpc

ALL = "all RPCs of "
# A mermaid arrow lists this many methods, then "+N": a label must stay
# short enough to read in the picture.
LABEL_NAMES = 4


@dataclass(frozen=True)
class Edge:
    caller: str  # account, e.g. svc-order
    callee: str
    # Sorted; "Service/Method", or "all RPCs of Service" when every RPC of
    # that gRPC service is allowed.
    methods: tuple[str, ...]


def edges(directory: Path, descriptors: Path | None = None) -> list[Edge]:
    """Raises files.PolicyError for a policy the runtime cannot read, and
    rpcs.DescriptorError without the descriptor set."""
    return edges_of(files.read(directory), rpcs.load(descriptors, services.available()))


def edges_of(resources: Sequence[files.Resource], catalogue: Catalogue) -> list[Edge]:
    found = authz.policies(resources)
    callees = {
        callee: authz.Authorizer(
            found,
            namespace=workloads.NAMESPACE,
            labels={"app": callee, "version": "v1"},
            trust_domain=authz.ISTIO_DEFAULT_TRUST_DOMAIN,
        )
        for callee in workloads.service_accounts()
    }
    result: list[Edge] = []
    for caller in workloads.callers():
        peer = f"spiffe://{workloads.principal(caller)}"
        for callee, name in workloads.service_accounts().items():
            offered = catalogue.of(name)
            allowed = [r for r in offered if callees[callee].decide(peer, r.path).allowed]
            if allowed:
                result.append(Edge(caller, callee, _methods(allowed, offered)))
    return result


def _methods(allowed: Sequence[Rpc], offered: Sequence[Rpc]) -> tuple[str, ...]:
    names: list[str] = []
    for service in sorted({r.service for r in allowed}):
        mine = [r for r in allowed if r.service == service]
        if len(mine) == sum(1 for r in offered if r.service == service):
            names.append(f"{ALL}{mine[0].service_name}")
        else:
            names.extend(f"{r.service_name}/{r.method}" for r in mine)
    return tuple(sorted(names))


def table(found: Sequence[Edge]) -> str:
    """caller | callee | methods, aligned; also a Markdown table."""
    rows = [("caller", "callee", "methods")]
    rows += [(e.caller, e.callee, _cell(e.methods)) for e in found]
    wide = [max(len(row[i]) for row in rows) for i in range(2)]
    lines = [f"{row[0]:<{wide[0]}} | {row[1]:<{wide[1]}} | {row[2]}" for row in rows]
    lines.insert(1, f"{'-' * wide[0]} | {'-' * wide[1]} | {'-' * len('methods')}")
    return "\n".join(lines) + "\n"


def _cell(methods: Sequence[str]) -> str:
    wildcards = [m.removeprefix(ALL) for m in methods if m.startswith(ALL)]
    named = sorted(m.partition("/")[2] for m in methods if not m.startswith(ALL))
    return ", ".join([*([f"{ALL}{', '.join(wildcards)}"] if wildcards else []), *named])


def mermaid(found: Sequence[Edge]) -> str:
    """A `flowchart LR`, one arrow per caller→callee labelled with what it
    may call ("all" for every RPC)."""
    used = {a for e in found for a in (e.caller, e.callee)}
    accounts = [a for a in workloads.callers() if a in used]
    lines = ["flowchart LR"]
    lines += [f'  {_node(a)}["{a}"]' for a in accounts]
    lines += [f"  {_node(e.caller)} -->|{_label(e.methods)}| {_node(e.callee)}" for e in found]
    return "\n".join(lines) + "\n"


def _node(account: str) -> str:
    # A hyphen in a mermaid id can read as the start of an arrow.
    return account.replace("-", "_")


def _label(methods: Sequence[str]) -> str:
    if all(m.startswith(ALL) for m in methods):
        return "all"
    names = sorted(
        f"all {m.removeprefix(ALL)}" if m.startswith(ALL) else m.partition("/")[2] for m in methods
    )
    # "+1" would take the room of the name it stands for.
    if len(names) <= LABEL_NAMES + 1:
        return ", ".join(names)
    return f"{', '.join(names[:LABEL_NAMES])} +{len(names) - LABEL_NAMES}"
