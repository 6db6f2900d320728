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

from kit.mesh.files import Resource

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


def schema_errors(resources: Sequence[Resource], *, root: Path | None = None) -> list[str]:
    """One line per schema error, `<source> <kind> <name>: <path> <message>`, in
    the order of `resources` (as kit.mesh.files reads them); empty when every
    resource is valid. A resource of an apiVersion or kind the package has no
    model for is an error too.

    `root` is the checkout whose kit/mesh/schemas.mjs and node_modules are used.
    Raises SchemaCheckUnavailable when Node.js or the package is missing.
    """
    if not resources:
        return []
    root = (root or ROOT).resolve()
    command = _command(root)
    payload = json.dumps(
        [{"source": resource.source, "resource": resource.body} for resource in resources],
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
