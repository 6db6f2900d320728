"""The mesh's resources checked against Istio's published CRD schemas.

The schemas ship as the npm package @kubernetes-models/istio (pinned in
package.json, installed by `make test`), whose models validate with ajv; the
check runs them in Node.js (kit/mesh/schemas.mjs), once for all documents.
They find what the API server's schema check would refuse (a wrong type, a
missing field, a value outside an enum), not what it would silently drop:
Istio's schemas let unknown fields through, and the CEL rules are not run.
"""

from __future__ import annotations

import datetime
import json
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path("kit") / "mesh" / "schemas.mjs"
PACKAGE = "@kubernetes-models/istio"
# Node starts and loads the schemas in well under a second; this only bounds
# a hung process.
TIMEOUT_SECONDS = 60.0
# schemas.mjs's exit status when the package is not installed (2: bad input).
_EXIT_NOT_INSTALLED = 3
_INSTALL = f"run `make test` (it installs package.json's tools) or `npm install` in {{root}} to get {PACKAGE}"


class SchemaCheckUnavailable(RuntimeError):
    """Node.js or the schema package is missing, so nothing was checked."""


def load_documents(directory: Path, *, root: Path | None = None) -> list[tuple[str, dict[str, Any]]]:
    """Every resource in the YAML files under `directory`, each with its source
    `<path relative to root>#<index in its file>` (an absolute path outside root).

    kustomization.yaml is kustomize's, not a resource. Empty documents (a
    `---` with nothing after it) are skipped but still counted, so `#<index>`
    is the document's position in its file, as the YAML reads.
    """
    root = (root or ROOT).resolve()
    documents: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(directory.resolve().rglob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        name = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()
        # A file object, not its text, so a YAML error names the file.
        with path.open(encoding="utf-8") as stream:
            loaded = list(yaml.safe_load_all(stream))
        for index, document in enumerate(loaded):
            if document is None:
                continue
            if not isinstance(document, dict):
                kind = type(document).__name__
                raise ValueError(f"{name}#{index}: a document must be a mapping (a resource), not {kind}")
            documents.append((f"{name}#{index}", document))
    return documents


def schema_errors(
    documents: Sequence[tuple[str, Mapping[str, Any]]], *, root: Path | None = None
) -> list[str]:
    """One line per schema error, `<source> <kind> <name>: <path> <message>`, in
    the order of `documents`; empty when every resource is valid. A resource of
    an apiVersion or kind the package has no model for is an error too.

    `root` is the checkout whose kit/mesh/schemas.mjs and node_modules are used.
    Raises SchemaCheckUnavailable when Node.js or the package is missing.
    """
    if not documents:
        return []
    root = (root or ROOT).resolve()
    command = _command(root)
    payload = json.dumps(
        [{"source": source, "resource": resource} for source, resource in documents],
        default=_json_value,
    )
    try:
        finished = subprocess.run(
            command,
            input=payload.encode(),
            capture_output=True,
            cwd=root,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"the Istio schema check took over {TIMEOUT_SECONDS:.0f}s: {command}") from exc
    stderr = finished.stderr.decode(errors="replace").strip()
    if finished.returncode == _EXIT_NOT_INSTALLED:
        raise SchemaCheckUnavailable(f"{stderr}\n{_INSTALL.format(root=root)}")
    if finished.returncode != 0:
        raise RuntimeError(f"the Istio schema check failed (exit {finished.returncode}): {stderr}")
    return _lines(finished.stdout)


def _command(root: Path) -> list[str]:
    node = shutil.which("node")
    if node is None:
        raise SchemaCheckUnavailable(
            f"Node.js (`node`) is not on PATH; install Node.js, then {_INSTALL.format(root=root)}"
        )
    # Node resolves the package from the script's folder upwards, so it must
    # be installed in this checkout; checked here to say so before Node does.
    if not (root / "node_modules" / PACKAGE / "package.json").is_file():
        raise SchemaCheckUnavailable(f"{PACKAGE} is not installed: {_INSTALL.format(root=root)}")
    script = root / SCRIPT
    if not script.is_file():
        raise SchemaCheckUnavailable(f"{script} is missing: {root} is not a stockmesh checkout")
    return [node, str(script)]


def _json_value(value: object) -> object:
    # PyYAML reads an unquoted date as a date; the API server sees a string.
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def _lines(stdout: bytes) -> list[str]:
    try:
        invalid = json.loads(stdout)
    except json.JSONDecodeError as exc:
        raise RuntimeError(f"the Istio schema check printed no JSON: {stdout[:200]!r}") from exc
    if not isinstance(invalid, list):
        raise RuntimeError(f"the Istio schema check printed {type(invalid).__name__}, not a list")
    lines: list[str] = []
    for item in invalid:
        kind = item.get("kind") or "(no kind)"
        name = item.get("name") or "(no name)"
        lines.extend(f"{item['source']} {kind} {name}: {error}" for error in item["errors"])
    return lines
