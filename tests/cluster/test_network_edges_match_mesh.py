"""The NetworkPolicies allow exactly the calls between workloads that the mesh's
AuthorizationPolicies allow: the same caller → callee pairs, computed from the same rendering
(the NetworkPolicies by tests/cluster/network.py, the mesh by kit.mesh.graph, as Istio
decides). A pair only one layer allows is either a hole in the CNI's layer or a call that
the cluster will drop although the mesh allows it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from kit import services
from kit.mesh import files, graph, rpcs
from tests.cluster.manifests import Rendering, Workload, ids, kustomizations, render, workloads
from tests.cluster.network import Pod, Policies

NAMESPACE = "stockmesh"
# The port a workload serves its calls on, by the name its container gives it.
SERVING_PORTS = ("grpc", "http")
# Accounts the mesh lets call services that run no workload in the cluster, and why.
CALLERS_WITHOUT_WORKLOAD: Mapping[str, str] = {
    "dev-client": (
        "the operators' toolbox identity: grpcurl and the stockmesh CLI reach a pod through "
        "`kubectl port-forward`, which NetworkPolicies do not see"
    ),
}


def with_mesh_and_workloads() -> list[Path]:
    return [
        d
        for d in kustomizations()
        if render(d).ok
        and any(True for _ in render(d).of_kind("AuthorizationPolicy"))
        and any(w.namespace == NAMESPACE for w in workloads(render(d)))
    ]


def accounts(rendering: Rendering) -> dict[str, Workload]:
    return {str(w.pod.get("serviceAccountName")): w for w in workloads(rendering) if w.namespace == NAMESPACE}


def network_edges(rendering: Rendering, drop: str | None = None) -> set[tuple[str, str]]:
    policies = Policies(rendering)
    if drop is not None:
        policies.policies = [p for p in policies.policies if p["metadata"]["name"] != drop]
    found = set()
    for caller, source in accounts(rendering).items():
        for callee, destination in accounts(rendering).items():
            target = Pod.of(destination)
            port = next((target.ports[n] for n in SERVING_PORTS if n in target.ports), None)
            if caller != callee and port is not None and policies.allows(Pod.of(source), target, port):
                found.add((caller, callee))
    return found


def mesh_edges(rendering: Rendering) -> set[tuple[str, str]]:
    resources = [
        files.Resource(f"{rendering.directory}#{i}", d)
        for i, d in enumerate(rendering.documents)
        if str(d.get("apiVersion", "")).startswith(("security.istio.io/", "networking.istio.io/"))
    ]
    catalogue = rpcs.load(None, services.available())
    return {(e.caller, e.callee) for e in graph.edges_of(resources, catalogue)}


@pytest.mark.parametrize("directory", with_mesh_and_workloads(), ids=ids)
def test_network_policies_allow_exactly_the_mesh_edges(directory: Path) -> None:
    rendering = render(directory)
    deployed = set(accounts(rendering))
    mesh = mesh_edges(rendering)
    undeployed = {caller for caller, _ in mesh} - deployed
    assert undeployed == set(CALLERS_WITHOUT_WORKLOAD), (
        f"mesh callers with no workload in {directory}: {sorted(undeployed)}; "
        f"expected only {sorted(CALLERS_WITHOUT_WORKLOAD)}"
    )
    expected = {(a, b) for a, b in mesh if a in deployed}
    network = network_edges(rendering)
    assert network == expected, (
        f"{directory}: NetworkPolicies and AuthorizationPolicies disagree\n"
        f"  allowed by the NetworkPolicies only: {sorted(network - expected)}\n"
        f"  allowed by the mesh only: {sorted(expected - network)}"
    )


def test_removing_an_ingress_policy_removes_its_edges() -> None:
    # The comparison must see a change: without svc-stock's ingress rule nothing may call it.
    rendering = render(Path("cluster/overlays/prod"))
    before = network_edges(rendering)
    after = network_edges(rendering, drop="svc-stock-ingress")
    assert {(a, b) for a, b in before if b == "svc-stock"} == {
        ("gateway", "svc-stock"),
        ("edge", "svc-stock"),
        ("svc-order", "svc-stock"),
        ("svc-procure", "svc-stock"),
    }
    assert before - after == {(a, b) for a, b in before if b == "svc-stock"}
