"""Every Deployment and Rollout of every rendering runs as the restricted Pod Security
profile demands, with requests and limits, readiness and liveness probes (gRPC health on the
gRPC port of a service, HTTP elsewhere); in the namespace `stockmesh`, each runs as the
ServiceAccount the mesh's policies name, labelled as its subsets select, with an Istio sidecar
and a writable /tmp on an emptyDir."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from kit.mesh import workloads as mesh_workloads
from tests.cluster.manifests import Workload, ids, kustomizations, render, rendered, workloads

NAMESPACE = "stockmesh"


def with_workloads() -> list[Path]:
    return [d for d in kustomizations() if render(d).ok and workloads(render(d))]


def pod_problems(workload: Workload) -> list[str]:
    pod = workload.pod
    security = pod.get("securityContext") or {}
    problems = []
    if security.get("runAsNonRoot") is not True:
        problems.append("pod securityContext.runAsNonRoot is not true")
    if (security.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
        problems.append("pod securityContext.seccompProfile.type is not RuntimeDefault")
    for container in workload.containers:
        problems += [f"container {container['name']}: {p}" for p in container_problems(container)]
    return problems


def container_problems(container: Mapping[str, Any]) -> list[str]:
    security = container.get("securityContext") or {}
    problems = []
    if security.get("allowPrivilegeEscalation") is not False:
        problems.append("allowPrivilegeEscalation is not false")
    if security.get("readOnlyRootFilesystem") is not True:
        problems.append("readOnlyRootFilesystem is not true")
    if "ALL" not in ((security.get("capabilities") or {}).get("drop") or []):
        problems.append("capabilities.drop lacks ALL")
    resources = container.get("resources") or {}
    for bound in ("requests", "limits"):
        missing = [r for r in ("cpu", "memory") if r not in (resources.get(bound) or {})]
        if missing:
            problems.append(f"resources.{bound} lacks {', '.join(missing)}")
    ports = {p.get("name"): p["containerPort"] for p in container.get("ports") or []}
    for probe in ("readinessProbe", "livenessProbe"):
        found = container.get(probe)
        if found is None:
            problems.append(f"no {probe}")
        elif "grpc" in ports and (found.get("grpc") or {}).get("port") != ports["grpc"]:
            problems.append(f"{probe} is not gRPC health on the grpc port {ports['grpc']}: {found}")
    return problems


def tmp_problems(container: Mapping[str, Any], volumes: Mapping[str, Any]) -> list[str]:
    # STOCKMESH_HOME is /tmp/stockmesh in the image: the one place the process writes.
    tmp = [m for m in container.get("volumeMounts") or [] if m.get("mountPath") == "/tmp"]
    if not tmp or "emptyDir" not in volumes.get(tmp[0]["name"], {}):
        return [f"container {container['name']}: no emptyDir at /tmp (the root filesystem is read-only)"]
    return []


def mesh_problems(workload: Workload) -> list[str]:
    named = {*mesh_workloads.service_accounts(), *mesh_workloads.EDGES}
    account = workload.pod.get("serviceAccountName")
    annotations = (workload.template.get("metadata") or {}).get("annotations") or {}
    problems = []
    if account not in named:
        problems.append(f"serviceAccountName {account!r} is none the mesh names ({', '.join(sorted(named))})")
    if workload.labels.get("app") != account:
        problems.append(f"label app={workload.labels.get('app')!r}, not its account {account!r}")
    if workload.labels.get("version") not in ("v1", "v2"):
        problems.append(f"label version={workload.labels.get('version')!r}: the subsets select v1 or v2")
    if annotations.get("sidecar.istio.io/inject") != "true":
        problems.append('no sidecar.istio.io/inject: "true" annotation')
    volumes = {v["name"]: v for v in workload.pod.get("volumes") or []}
    for container in workload.containers:
        problems += tmp_problems(container, volumes)
    return problems


@pytest.mark.parametrize("directory", with_workloads(), ids=ids)
def test_every_workload_is_hardened_probed_and_bounded(directory: Path) -> None:
    problems = [f"{w}: {p}" for w in workloads(rendered(directory)) for p in pod_problems(w)]
    assert not problems, f"{directory}:\n" + "\n".join(problems)


@pytest.mark.parametrize("directory", with_workloads(), ids=ids)
def test_every_stockmesh_workload_is_a_mesh_identity(directory: Path) -> None:
    mine = [w for w in workloads(rendered(directory)) if w.namespace == NAMESPACE]
    problems = [f"{w}: {p}" for w in mine for p in mesh_problems(w)]
    assert not problems, f"{directory}:\n" + "\n".join(problems)


def test_each_mesh_account_runs_exactly_one_workload() -> None:
    # The base must run every service the registry knows, the gateway and the edge, once each.
    mine = [w for w in workloads(rendered(Path("cluster/base"))) if w.namespace == NAMESPACE]
    running = sorted(str(w.pod.get("serviceAccountName")) for w in mine)
    assert running == sorted({*mesh_workloads.service_accounts(), *mesh_workloads.EDGES})
