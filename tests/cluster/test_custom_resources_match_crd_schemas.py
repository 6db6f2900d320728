"""Every custom resource of every rendering validates against its CRD's schema, as published
in the @kubernetes-models/* packages and run in Node.js (ci/crd_validate.mjs); a kind that no
package knows fails, unless ALLOWED_WITHOUT_SCHEMA names it with the reason."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.manifests import ROOT, group_of, ids, is_builtin, kustomizations, rendered, where

SCRIPT = ROOT / "ci" / "crd_validate.mjs"
# API groups whose kinds have no published schema, each with the reason it is accepted.
ALLOWED_WITHOUT_SCHEMA: Mapping[str, str] = {
    "templates.gatekeeper.sh": (
        "no npm or PyPI package publishes the ConstraintTemplate schema: tests/platform/test_gatekeeper.py "
        "checks their shape against Gatekeeper's v1 CRD and runs their Rego instead"
    ),
    "constraints.gatekeeper.sh": (
        "Gatekeeper generates each constraint's CRD from its ConstraintTemplate at run time: "
        "no package can publish it"
    ),
}
TIMEOUT_SECONDS = 120.0


def invalid(resources: Sequence[Mapping[str, Any]], source: str) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js (`node`) is not on PATH: the CRD schemas run in Node")
    payload = json.dumps([{"source": f"{source}#{i}", "resource": r} for i, r in enumerate(resources)])
    done = subprocess.run(
        [node, str(SCRIPT)],
        input=payload,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    assert done.returncode == 0, f"{SCRIPT.name} failed (exit {done.returncode}): {done.stderr.strip()}"
    result: list[dict[str, Any]] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize("directory", kustomizations(), ids=ids)
def test_custom_resources_are_valid_for_their_crds(directory: Path) -> None:
    custom = [d for d in rendered(directory).documents if not is_builtin(d)]
    problems: list[str] = []
    for item, document in (
        (item, custom[int(item["source"].rpartition("#")[2])]) for item in invalid(custom, str(directory))
    ):
        if item["unknown"] and group_of(str(document.get("apiVersion"))) in ALLOWED_WITHOUT_SCHEMA:
            continue
        problems.extend(f"{where(document)}: {error}" for error in item["errors"])
    assert not problems, f"{directory}:\n" + "\n".join(problems)


def test_the_schema_check_refuses_a_wrong_field_and_an_unknown_kind() -> None:
    # The check must be able to fail: a Rollout with a weight that is not a number, and a kind
    # that no package knows.
    wrong = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": "broken"},
        "spec": {"strategy": {"canary": {"steps": [{"setWeight": "ten"}]}}},
    }
    unknown = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    found = {item["kind"]: item for item in invalid([wrong, unknown], "probe")}
    assert any("setWeight" in error for error in found["Rollout"]["errors"]), found
    assert found["Widget"]["unknown"], found
