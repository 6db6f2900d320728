"""ci/gitops_bump.py on a copy of each overlay: the tag (and digest) land, nothing else moves."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "ci"))
import gitops_bump

ROOT = Path(__file__).resolve().parents[2]

IMAGE = "ghcr.io/stockmesh/stockmesh"
DIGEST = "sha256:" + "ab" * 32
FIXTURE = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../base
images:
  - name: ghcr.io/other/sidecar
    newTag: "1.0"
  - name: ghcr.io/stockmesh/stockmesh
    newTag: staging
"""


def overlay(tmp_path: Path, env: str) -> Path:
    """A copy of the real overlay when it exists, else a stand-in with the same shape."""
    target = tmp_path / env
    real = ROOT / "cluster" / "overlays" / env
    if (real / "kustomization.yaml").exists():
        shutil.copytree(real, target)
    else:
        target.mkdir()
        (target / "kustomization.yaml").write_text(FIXTURE)
    return target


def load(path: Path) -> Any:
    return yaml.safe_load((path / "kustomization.yaml").read_text())


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_sets_tag_and_digest(tmp_path: Path, env: str) -> None:
    path = overlay(tmp_path, env)
    before = load(path)
    args = ["--overlay", str(path), "--image", IMAGE, "--tag", "sha-0123abc", "--digest", DIGEST]
    assert gitops_bump.main(args) == 0
    after = load(path)
    ours = [e for e in after["images"] if e["name"] == IMAGE]
    assert ours == [{"name": IMAGE, "newTag": "sha-0123abc", "digest": DIGEST}]
    # Everything but our image's entry is as it was.
    assert {k: v for k, v in after.items() if k != "images"} == {
        k: v for k, v in before.items() if k != "images"
    }
    others = [e for e in before.get("images", []) if e["name"] != IMAGE]
    assert [e for e in after["images"] if e["name"] != IMAGE] == others


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_sets_the_service_and_edge_images_of_one_commit_together(tmp_path: Path, env: str) -> None:
    path = overlay(tmp_path, env)
    edge, edge_digest = f"{IMAGE}-edge", "sha256:" + "cd" * 32
    args = ["--overlay", str(path), "--tag", "sha-0123abc", "--image", IMAGE, "--digest", DIGEST]
    assert gitops_bump.main([*args, "--image", edge, "--digest", edge_digest]) == 0
    after = {e["name"]: e for e in load(path)["images"]}
    assert after[IMAGE] == {"name": IMAGE, "newTag": "sha-0123abc", "digest": DIGEST}
    assert after[edge] == {"name": edge, "newTag": "sha-0123abc", "digest": edge_digest}


def test_an_image_without_its_digest_is_refused(tmp_path: Path) -> None:
    path = overlay(tmp_path, "staging")
    before = (path / "kustomization.yaml").read_text()
    args = ["--overlay", str(path), "--tag", "sha-1", "--image", IMAGE, "--image", f"{IMAGE}-edge"]
    with pytest.raises(SystemExit) as exit_:
        gitops_bump.main([*args, "--digest", DIGEST])
    assert exit_.value.code == 2
    assert (path / "kustomization.yaml").read_text() == before


def test_second_run_changes_nothing(tmp_path: Path) -> None:
    kustomization = overlay(tmp_path, "staging") / "kustomization.yaml"
    assert gitops_bump.set_image(kustomization, IMAGE, "sha-1", DIGEST)
    assert not gitops_bump.set_image(kustomization, IMAGE, "sha-1", DIGEST)


def test_adds_the_entry_when_missing(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources:\n  - ../../base\n")
    assert gitops_bump.set_image(tmp_path / "kustomization.yaml", IMAGE, "v1.2.3")
    assert load(tmp_path)["images"] == [{"name": IMAGE, "newTag": "v1.2.3"}]


@pytest.mark.parametrize(
    ("tag", "digest"), [("bad tag", None), ("-x", None), ("ok", "sha256:short"), ("ok", "md5:" + "a" * 64)]
)
def test_refuses_bad_references(tmp_path: Path, tag: str, digest: str | None) -> None:
    path = overlay(tmp_path, "staging")
    before = (path / "kustomization.yaml").read_text()
    with pytest.raises(gitops_bump.BumpError):
        gitops_bump.set_image(path / "kustomization.yaml", IMAGE, tag, digest)
    assert (path / "kustomization.yaml").read_text() == before


def test_the_bumped_overlay_still_renders(tmp_path: Path) -> None:
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is not on PATH: install it (its built-in kustomize renders the overlay)"
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "cluster", copy / "cluster")
    shutil.copytree(ROOT / "mesh", copy / "mesh")
    kustomization = copy / "cluster" / "overlays" / "staging" / "kustomization.yaml"
    gitops_bump.set_image(kustomization, IMAGE, "sha-0123abc", DIGEST)
    rendered = subprocess.run(
        [kubectl, "kustomize", str(kustomization.parent)], capture_output=True, text=True, check=True
    ).stdout
    assert f"image: {IMAGE}:sha-0123abc@{DIGEST}" in rendered
