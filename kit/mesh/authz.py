"""AuthorizationPolicy, as Istio evaluates it for one workload.

A request is refused if any DENY policy's rule matches it; otherwise, when
any ALLOW policy applies to the workload (the namespace's `deny-all`, whose
empty spec matches nothing, always does), it must match a rule of one of
them. A rule matches when one of its `from` sources and one of its `to`
operations match (a missing `from` or `to` matches anything); within a
source or an operation every field given must match.

Principals are `<trust-domain>/ns/<namespace>/sa/<account>`. Istio's default
trust domain, `cluster.local`, written in a policy stands for the mesh's own
trust domain (as Istio's trust domain aliases do), so the same files hold
locally, where certificates carry the local trust domain.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kit.mesh.fields import only, strings, wildcard
from kit.mesh.files import PolicyError, Resource

KIND = "AuthorizationPolicy"
ISTIO_DEFAULT_TRUST_DOMAIN = "cluster.local"


@dataclass(frozen=True)
class Source:
    principals: tuple[str, ...] = ()
    not_principals: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()
    not_namespaces: tuple[str, ...] = ()

    def matches(self, identities: Sequence[str], namespace: str | None) -> bool:
        if self.principals and not any(wildcard(p, i) for p in self.principals for i in identities):
            return False
        if self.not_principals and any(wildcard(p, i) for p in self.not_principals for i in identities):
            return False
        if self.namespaces and not any(wildcard(n, namespace or "") for n in self.namespaces):
            return False
        return not (self.not_namespaces and any(wildcard(n, namespace or "") for n in self.not_namespaces))


@dataclass(frozen=True)
class Operation:
    paths: tuple[str, ...] = ()
    not_paths: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()

    def matches(self, path: str) -> bool:
        if self.paths and not any(wildcard(p, path) for p in self.paths):
            return False
        if self.not_paths and any(wildcard(p, path) for p in self.not_paths):
            return False
        # gRPC is always an HTTP POST.
        return not (self.methods and not any(wildcard(m, "POST") for m in self.methods))


@dataclass(frozen=True)
class Rule:
    sources: tuple[Source, ...]  # empty: from anyone
    operations: tuple[Operation, ...]  # empty: to anything

    def matches(self, identities: Sequence[str], namespace: str | None, path: str) -> bool:
        return (not self.sources or any(s.matches(identities, namespace) for s in self.sources)) and (
            not self.operations or any(o.matches(path) for o in self.operations)
        )


@dataclass(frozen=True)
class Policy:
    name: str
    namespace: str
    selector: Mapping[str, str] | None  # None: every workload of the namespace
    action: str  # ALLOW or DENY
    rules: tuple[Rule, ...]
    source: str

    def applies_to(self, namespace: str, labels: Mapping[str, str]) -> bool:
        if self.namespace != namespace:
            return False
        return self.selector is None or all(labels.get(k) == v for k, v in self.selector.items())


def policies(resources: Iterable[Resource]) -> list[Policy]:
    return [parse(r) for r in resources if r.kind == KIND]


def parse(resource: Resource) -> Policy:
    where = f"{resource.source} {KIND} {resource.name}"
    spec = resource.spec
    only(spec, {"selector", "action", "rules"}, f"{where}: spec")
    action = str(spec.get("action", "ALLOW"))
    if action not in ("ALLOW", "DENY"):
        raise PolicyError(f"{where}: action {action} is not enforced by the local runtime")
    selector = spec.get("selector")
    labels: dict[str, str] | None = None
    if selector is not None:
        only(selector, {"matchLabels"}, f"{where}: selector")
        labels = {str(k): str(v) for k, v in (selector.get("matchLabels") or {}).items()}
    rules = tuple(_rule(body, f"{where}: rules[{i}]") for i, body in enumerate(spec.get("rules") or []))
    return Policy(resource.name, resource.namespace, labels, action, rules, resource.source)


def _rule(body: Mapping[str, Any], where: str) -> Rule:
    only(body, {"from", "to"}, where)
    sources = []
    for i, item in enumerate(body.get("from") or []):
        only(item, {"source"}, f"{where}.from[{i}]")
        source = item.get("source") or {}
        at = f"{where}.from[{i}].source"
        only(source, {"principals", "notPrincipals", "namespaces", "notNamespaces"}, at)
        sources.append(
            Source(
                strings(source, "principals", at),
                strings(source, "notPrincipals", at),
                strings(source, "namespaces", at),
                strings(source, "notNamespaces", at),
            )
        )
    operations = []
    for i, item in enumerate(body.get("to") or []):
        only(item, {"operation"}, f"{where}.to[{i}]")
        operation = item.get("operation") or {}
        at = f"{where}.to[{i}].operation"
        only(operation, {"paths", "notPaths", "methods"}, at)
        operations.append(
            Operation(
                strings(operation, "paths", at),
                strings(operation, "notPaths", at),
                strings(operation, "methods", at),
            )
        )
    return Rule(tuple(sources), tuple(operations))


@dataclass(frozen=True)
class Decision:
    allowed: bool
    policy: str  # the policy that decided ("" when none applies)


class Authorizer:
    """The decision for one workload (its namespace and labels) of every
    (caller, method) pair, remembered: the policy does not change while the
    process runs."""

    def __init__(
        self, found: Sequence[Policy], *, namespace: str, labels: Mapping[str, str], trust_domain: str
    ) -> None:
        applying = [p for p in found if p.applies_to(namespace, labels)]
        self.deny = [p for p in applying if p.action == "DENY"]
        self.allow = [p for p in applying if p.action == "ALLOW"]
        self.trust_domain = trust_domain
        self._decided: dict[tuple[str | None, str], Decision] = {}

    def decide(self, peer: str | None, path: str) -> Decision:
        key = (peer, path)
        decided = self._decided.get(key)
        if decided is None:
            decided = self._decided[key] = self._decide(peer, path)
        return decided

    def _decide(self, peer: str | None, path: str) -> Decision:
        identities, namespace = self._identities(peer)
        for policy in self.deny:
            if any(rule.matches(identities, namespace, path) for rule in policy.rules):
                return Decision(False, policy.name)
        if not self.allow:
            return Decision(True, "")
        for policy in self.allow:
            if any(rule.matches(identities, namespace, path) for rule in policy.rules):
                return Decision(True, policy.name)
        return Decision(False, ",".join(p.name for p in self.allow))

    def _identities(self, peer: str | None) -> tuple[tuple[str, ...], str | None]:
        """The caller's principal as a policy may write it, and its namespace."""
        if not peer or not peer.startswith("spiffe://"):
            return (), None
        principal = peer.removeprefix("spiffe://")
        domain, _, rest = principal.partition("/")
        parts = rest.split("/")
        namespace = parts[1] if len(parts) == 4 and parts[0] == "ns" and parts[2] == "sa" else None
        if domain == self.trust_domain and domain != ISTIO_DEFAULT_TRUST_DOMAIN:
            return (principal, f"{ISTIO_DEFAULT_TRUST_DOMAIN}/{rest}"), namespace
        return (principal,), namespace
