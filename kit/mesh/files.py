"""The mesh's files: where they are and how they are read.

The same YAML the cluster applies; the local runtime, `stockmesh mesh check`
and the tests read it from `STOCKMESH_MESH_DIR` (by default the repository's
`mesh/istio/`, which a container image copies beside the code)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "mesh" / "istio"
MESH_DIR_VARIABLE = "STOCKMESH_MESH_DIR"


class PolicyError(ValueError):
    """A mesh file the runtime cannot read or cannot enforce as written."""


@dataclass(frozen=True)
class Resource:
    """One YAML document: where it came from, and its content."""

    source: str  # "<file>#<index>", for messages
    body: Mapping[str, Any]

    @property
    def kind(self) -> str:
        return str(self.body.get("kind", ""))

    @property
    def api_version(self) -> str:
        return str(self.body.get("apiVersion", ""))

    @property
    def name(self) -> str:
        return str(self.metadata.get("name", ""))

    @property
    def namespace(self) -> str:
        return str(self.metadata.get("namespace", ""))

    @property
    def where(self) -> str:
        """`<file>#<index> <kind> <name>`: how a message names the resource."""
        return f"{self.source} {self.kind} {self.name}"

    @property
    def metadata(self) -> Mapping[str, Any]:
        found = self.body.get("metadata")
        return found if isinstance(found, Mapping) else {}

    @property
    def spec(self) -> Mapping[str, Any]:
        found = self.body.get("spec")
        return found if isinstance(found, Mapping) else {}


def mesh_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get(MESH_DIR_VARIABLE) or DEFAULT_DIR).resolve()


def read(directory: Path) -> list[Resource]:
    """Every document of every `*.yaml` under `directory`, in path order;
    kustomize's own file is not a resource."""
    if not directory.is_dir():
        raise PolicyError(f"no mesh policy folder at {directory} (set {MESH_DIR_VARIABLE})")
    found: list[Resource] = []
    for path in sorted(directory.rglob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        try:
            documents = list(yaml.safe_load_all(path.read_text()))
        except yaml.YAMLError as exc:
            raise PolicyError(f"{path}: not valid YAML: {exc}") from None
        for index, document in enumerate(documents):
            if document is None:
                continue
            if not isinstance(document, Mapping):
                raise PolicyError(f"{path}#{index}: a resource must be a mapping")
            found.append(Resource(f"{_shown(path, directory)}#{index}", document))
    return found


def _shown(path: Path, directory: Path) -> str:
    try:
        return str(path.relative_to(directory.parent.parent))
    except ValueError:
        return str(path)
