"""Every kustomization under cluster/ renders with `kubectl kustomize`, as Argo CD would render
it, and the layout the docs promise is there."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cluster.manifests import ids, kustomizations, render

PROMISED = ("base", "overlays/dev", "overlays/staging", "overlays/prod")


def test_the_base_and_the_three_overlays_exist() -> None:
    found = {ids(d) for d in kustomizations()}
    missing = [d for d in PROMISED if d not in found]
    assert not missing, f"cluster/ lacks the kustomizations {missing} (cluster/README.md names them)"


@pytest.mark.parametrize("directory", kustomizations(), ids=ids)
def test_kustomization_renders_to_resources(directory: Path) -> None:
    result = render(directory)
    assert result.ok, f"kubectl kustomize {directory} failed:\n{result.stderr}"
    assert result.documents, f"kubectl kustomize {directory} rendered nothing"
