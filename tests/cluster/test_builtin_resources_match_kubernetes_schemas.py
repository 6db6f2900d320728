"""Every built-in resource of every rendering is valid for the cluster's Kubernetes release,
strictly: an unknown or misspelt field fails, where the API server might silently drop it."""

from __future__ import annotations

from pathlib import Path

# No stubs or py.typed in kubernetes-validate; pyproject's mypy overrides can list it instead.
import kubernetes_validate  # type: ignore[import-untyped]
import pytest
from kubernetes_validate.utils import SchemaNotFoundError  # type: ignore[import-untyped]

from tests.cluster.manifests import KUBERNETES_VERSION, ids, is_builtin, kustomizations, rendered, where


@pytest.mark.parametrize("directory", kustomizations(), ids=ids)
def test_builtin_resources_are_valid_kubernetes(directory: Path) -> None:
    problems = []
    for document in rendered(directory).documents:
        if not is_builtin(document):
            continue
        try:
            kubernetes_validate.validate(dict(document), KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = "/".join(str(p) for p in exc.path) or "(top)"
            problems.append(f"{where(document)}: {path}: {exc.message}")
        except SchemaNotFoundError:
            problems.append(f"{where(document)}: no such kind in Kubernetes {KUBERNETES_VERSION}")
    assert not problems, f"{directory}, against Kubernetes {KUBERNETES_VERSION}:\n" + "\n".join(problems)
