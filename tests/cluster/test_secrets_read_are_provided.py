"""Every secret a workload or job of the cluster reads (an env var's
secretKeyRef, a mounted secret's items) is one an ExternalSecret of
cluster/platform provides, under the same name and key: nothing in Git holds
a value, and nothing waits on a secret that no store fills."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster.manifests import Document, rendered

OVERLAYS = ("dev", "staging", "prod")
JOBS = Path("cluster/platform/jobs")
PROVIDERS = (Path("cluster/platform/data"), Path("cluster/platform/observability"), JOBS)
ANY = "*"  # dataFrom: the keys are whatever the store holds


def provided() -> dict[tuple[str, str], set[str]]:
    """(namespace, secret) -> the keys its ExternalSecret writes."""
    found: dict[tuple[str, str], set[str]] = {}
    for directory in PROVIDERS:
        for document in rendered(directory).documents:
            if document.get("kind") != "ExternalSecret":
                continue
            spec = document["spec"]
            target = spec.get("target") or {}
            name = target.get("name") or document["metadata"]["name"]
            template = (target.get("template") or {}).get("data")
            keys = set(template) if template else {item["secretKey"] for item in spec.get("data") or ()}
            if spec.get("dataFrom") and not template:
                keys.add(ANY)
            found[(document["metadata"].get("namespace", ""), name)] = keys
    return found


def pods(documents: tuple[Document, ...]) -> Iterator[tuple[str, str, Document]]:
    """(what, namespace, pod spec) of every controller's pod template, CronJobs' included."""
    for document in documents:
        spec = document.get("spec") or {}
        if document.get("kind") == "CronJob":
            spec = (spec.get("jobTemplate") or {}).get("spec") or {}
        template = spec.get("template")
        if isinstance(template, dict) and "spec" in template:
            metadata = document["metadata"]
            yield f"{document['kind']} {metadata['name']}", metadata.get("namespace", ""), template["spec"]


def read(documents: tuple[Document, ...], default_namespace: str) -> Iterator[tuple[str, str, str, str]]:
    """(workload, namespace, secret, key) for every secret key a pod reads."""
    for what, declared, pod in pods(documents):
        namespace = declared or default_namespace
        for container in [*(pod.get("containers") or ()), *(pod.get("initContainers") or ())]:
            for env in container.get("env") or ():
                ref = (env.get("valueFrom") or {}).get("secretKeyRef")
                if ref and not ref.get("optional"):
                    yield what, namespace, ref["name"], ref["key"]
        for volume in pod.get("volumes") or ():
            secret = volume.get("secret")
            if secret and not secret.get("optional"):
                for item in secret.get("items") or ({"key": ANY},):
                    yield what, namespace, secret["secretName"], item["key"]


@pytest.mark.parametrize("directory", [*(Path("cluster/overlays") / o for o in OVERLAYS), JOBS], ids=str)
def test_every_secret_read_is_written_by_an_external_secret(directory: Path) -> None:
    writes = provided()
    for workload, namespace, secret, key in read(rendered(directory).documents, "stockmesh"):
        keys = writes.get((namespace, secret))
        assert keys is not None, (
            f"{workload} reads secret {namespace}/{secret}, which no ExternalSecret writes"
        )
        assert ANY in (key, *keys) or key in keys, (
            f"{workload} reads key {key!r} of {secret}; it has {sorted(keys)}"
        )
