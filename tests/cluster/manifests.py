"""The cluster's manifests as the API server would receive them: every folder under cluster/
that holds a kustomization, rendered by `kubectl kustomize`, and what the checks read from
the renderings (workloads, their pod templates, which resources are custom)."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
# The images' Dockerfiles: the services' and the gateway's, and the Envoy edge's.
DOCKERFILES = (ROOT / "Dockerfile", ROOT / "gateway" / "envoy" / "Dockerfile")
CLUSTER = ROOT / "cluster"
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
# The Kubernetes release the manifests must be valid for: the oldest the platform supports
# (topologySpreadConstraints.matchLabelKeys, native gRPC probes and autoscaling/v2 are older).
KUBERNETES_VERSION = "1.33.0"
# Kustomize renders a few hundred documents in well under a second; this bounds a hang.
RENDER_TIMEOUT_SECONDS = 60.0

Document = Mapping[str, Any]


def kustomizations() -> list[Path]:
    """Every folder under cluster/ with a kustomization, relative to the repository, sorted:
    the base, the overlays and whatever else (cluster/platform/*) is added later."""
    found = {
        path.parent.relative_to(ROOT)
        for name in KUSTOMIZATION_FILES
        for path in CLUSTER.rglob(name)
        if "node_modules" not in path.parts
    }
    return sorted(found)


def ids(directory: Path) -> str:
    return str(directory.relative_to("cluster"))


@dataclass(frozen=True)
class Rendering:
    directory: Path
    ok: bool
    stderr: str
    documents: tuple[Document, ...]

    def of_kind(self, *kinds: str) -> Iterator[Document]:
        return (d for d in self.documents if d.get("kind") in kinds)


@cache
def render(directory: Path) -> Rendering:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl is not on PATH: install it (it renders cluster/ with its built-in kustomize)")
    done = subprocess.run(
        [kubectl, "kustomize", str(ROOT / directory)],
        capture_output=True,
        text=True,
        timeout=RENDER_TIMEOUT_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        return Rendering(directory, ok=False, stderr=done.stderr.strip(), documents=())
    documents = tuple(d for d in yaml.safe_load_all(done.stdout) if d)
    return Rendering(directory, ok=True, stderr="", documents=documents)


def rendered(directory: Path) -> Rendering:
    """The rendering, failing the calling test when kustomize refused the folder (the render
    test names the reason; the others need something to check)."""
    result = render(directory)
    if not result.ok:
        pytest.fail(f"{directory} does not render: {result.stderr}")
    return result


def group_of(api_version: str) -> str:
    return api_version.rpartition("/")[0] if "/" in api_version else ""


def is_builtin(document: Document) -> bool:
    """Kubernetes' own API groups: the core group, the dotless ones (apps, batch, policy,
    autoscaling) and *.k8s.io. Everything else is a custom resource with a CRD of its own."""
    group = group_of(str(document.get("apiVersion", "")))
    return "." not in group or group.endswith(".k8s.io")


def where(document: Document) -> str:
    metadata = document.get("metadata") or {}
    namespace = metadata.get("namespace")
    name = metadata.get("name", "(no name)")
    return f"{document.get('apiVersion')} {document.get('kind')} {f'{namespace}/' if namespace else ''}{name}"


@dataclass(frozen=True)
class Workload:
    """A controller and the pods it runs."""

    kind: str
    name: str
    namespace: str
    template: Document  # the pod template: {metadata, spec}

    @property
    def labels(self) -> Mapping[str, str]:
        return dict((self.template.get("metadata") or {}).get("labels") or {})

    @property
    def pod(self) -> Document:
        return self.template.get("spec") or {}

    @property
    def containers(self) -> list[Document]:
        return list(self.pod.get("containers") or [])

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


def workloads(rendering: Rendering) -> list[Workload]:
    """Every Deployment and every Rollout with its own pod template. A Rollout with a
    workloadRef runs the referenced Deployment's template, which is already in the list."""
    found = []
    for document in rendering.of_kind("Deployment", "Rollout"):
        template = (document.get("spec") or {}).get("template")
        if template is None:
            continue
        metadata = document["metadata"]
        found.append(Workload(document["kind"], metadata["name"], metadata.get("namespace", ""), template))
    return found


def dockerfile_instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction of a Dockerfile, continuation lines joined."""
    joined = re.sub(r"\\\n", " ", dockerfile.read_text())
    found = []
    for line in joined.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            word, _, rest = stripped.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found
