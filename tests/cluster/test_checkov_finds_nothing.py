"""checkov passes every rendering under cluster/ and both Dockerfiles: no failed check, except
those skipped in place with their reason (`checkov.io/skipN` annotations, `# checkov:skip=`)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cluster.manifests import DOCKERFILES, ROOT, ids, kustomizations, rendered
from tests.support.tools import tool

# One run over everything; checkov takes a few seconds to start, the checks themselves less.
TIMEOUT_SECONDS = 300.0

Report = dict[str, Any]


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Mapping[str, list[Report]]:
    """checkov's failed checks by the file they were found in, and the count it passed."""
    folder = tmp_path_factory.mktemp("rendered")
    files = list(DOCKERFILES)
    for directory in kustomizations():
        path = folder / f"{ids(directory).replace('/', '__')}.yaml"
        path.write_text(yaml.safe_dump_all([dict(d) for d in rendered(directory).documents]))
        files.append(path)
    command = [str(tool("checkov")), "--framework", "kubernetes", "dockerfile", "--quiet", "--compact"]
    command += [arg for f in files for arg in ("-f", str(f))]
    done = subprocess.run(
        [*command, "--output", "json"], capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
    )
    # Exit 1 means "found failed checks": the JSON says which. Anything else is checkov failing.
    assert done.returncode in (0, 1), f"checkov failed (exit {done.returncode}): {done.stderr[-2000:]}"
    output = json.loads(done.stdout)
    found: dict[str, list[Report]] = {str(f): [] for f in files}
    passed = 0
    for report in output if isinstance(output, list) else [output]:
        passed += report.get("summary", {}).get("passed", 0)
        for check in report.get("results", {}).get("failed_checks", []):
            found.setdefault(check["file_abs_path"], []).append(check)
    # A run that checked nothing would pass everything: make sure it read the files.
    assert passed > 0, f"checkov passed no check at all: {done.stdout[:500]}"
    return found


def described(checks: list[Report]) -> str:
    return "\n".join(f"{c['check_id']} {c['resource']}: {c['check_name']}" for c in checks)


@pytest.mark.parametrize("directory", kustomizations(), ids=ids)
def test_rendered_manifests_pass_checkov(directory: Path, reports: Mapping[str, list[Report]]) -> None:
    stem = ids(directory).replace("/", "__")
    failed = [check for path, checks in reports.items() if Path(path).stem == stem for check in checks]
    assert not failed, f"checkov on {directory}:\n{described(failed)}"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_dockerfile_passes_checkov(dockerfile: Path, reports: Mapping[str, list[Report]]) -> None:
    failed = reports.get(str(dockerfile), [])
    assert not failed, f"checkov on {dockerfile.relative_to(ROOT)}:\n{described(failed)}"
