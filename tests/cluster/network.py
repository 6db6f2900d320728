"""Which pod may open a connection to which, as rendered NetworkPolicies decide it: a
connection is allowed when the policies of the source allow it out (egress) and the policies
of the destination allow it in (ingress); a pod no policy of a direction selects is open in
that direction. An ipBlock could be any pod's address, so it counts as matching every pod:
the comparison with the mesh then shows it as an edge too many rather than hiding it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tests.cluster.manifests import Document, Rendering, Workload

NAME_LABEL = "kubernetes.io/metadata.name"


def selects(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A LabelSelector; an empty one selects everything."""
    selector = selector or {}
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        present = key in labels
        matched = {
            "In": present and labels.get(key) in values,
            "NotIn": not present or labels.get(key) not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }.get(operator)
        if matched is None:
            raise ValueError(f"unknown selector operator {operator!r}")
        if not matched:
            return False
    return True


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: Mapping[str, str]
    ports: Mapping[str, int]  # named container ports

    @classmethod
    def of(cls, workload: Workload) -> Pod:
        ports = {
            str(port["name"]): int(port["containerPort"])
            for container in workload.containers
            for port in container.get("ports") or []
            if port.get("name")
        }
        return cls(workload.namespace, workload.labels, ports)


class Policies:
    def __init__(self, rendering: Rendering) -> None:
        self.policies: Sequence[Document] = list(rendering.of_kind("NetworkPolicy"))
        self.namespace_labels = {
            d["metadata"]["name"]: {**(d["metadata"].get("labels") or {}), NAME_LABEL: d["metadata"]["name"]}
            for d in rendering.of_kind("Namespace")
        }

    def allows(self, source: Pod, destination: Pod, port: int) -> bool:
        return self._direction(source, destination, destination, port, "Egress", "egress", "to") and (
            self._direction(destination, source, destination, port, "Ingress", "ingress", "from")
        )

    def _direction(self, pod: Pod, peer: Pod, target: Pod, port: int, kind: str, key: str, side: str) -> bool:
        chosen = [
            p
            for p in self.policies
            if p["metadata"].get("namespace", "") == pod.namespace
            and selects(p["spec"].get("podSelector"), pod.labels)
            and kind in _types(p)
        ]
        if not chosen:
            return True
        return any(
            self._peers(rule.get(side), peer, p["metadata"].get("namespace", ""))
            and _ports(rule.get("ports"), target, port)
            for p in chosen
            for rule in p["spec"].get(key) or []
        )

    def _peers(self, peers: Iterable[Mapping[str, Any]] | None, pod: Pod, namespace: str) -> bool:
        if not peers:
            return True
        for peer in peers:
            if "ipBlock" in peer:
                return True
            if "namespaceSelector" in peer:
                labels = self.namespace_labels.get(pod.namespace, {NAME_LABEL: pod.namespace})
                in_namespace = selects(peer["namespaceSelector"], labels)
            else:
                in_namespace = pod.namespace == namespace
            if in_namespace and selects(peer.get("podSelector"), pod.labels):
                return True
        return False


def _types(policy: Document) -> list[str]:
    declared = policy["spec"].get("policyTypes")
    if declared:
        return list(declared)
    # Without policyTypes, a policy is for ingress, and for egress too when it has egress rules.
    return ["Ingress", *(["Egress"] if policy["spec"].get("egress") else [])]


def _ports(ports: Iterable[Mapping[str, Any]] | None, target: Pod, port: int) -> bool:
    if not ports:
        return True
    for entry in ports:
        if entry.get("protocol", "TCP") != "TCP":
            continue
        wanted = entry.get("port")
        if wanted is None:
            return True
        if isinstance(wanted, str):
            if target.ports.get(wanted) == port:
                return True
        elif wanted <= port <= entry.get("endPort", wanted):
            return True
    return False
