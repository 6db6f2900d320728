"""The GitHub Actions pipeline: actionlint, pinned actions, scripted steps, the six stages in order."""

from __future__ import annotations

import itertools
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
TOOLS = ROOT / ".build" / "tools" / "bin"
# The six stages, each needing the one before it.
STAGES = [
    "changes",
    "test",
    "security",
    "publish",
    "deploy-staging",
    "approve-production",
    "canary-production",
]
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$")
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
INTERPRETERS = {"bash", "python", "python3", "sh"}


def workflow_files() -> list[Path]:
    return sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def steps() -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path in workflow_files():
        for job_name, job in load(path)["jobs"].items():
            found += [(path.name, job_name, step) for step in job.get("steps", [])]
    return found


def make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][a-z0-9-]*):", (ROOT / "Makefile").read_text(), re.MULTILINE))


def test_there_is_a_workflow() -> None:
    assert workflow_files(), "no workflow in .github/workflows"


def test_actionlint_passes() -> None:
    binary = next(
        (str(p) for p in (TOOLS / "actionlint", ROOT / ".venv" / "bin" / "actionlint") if p.exists()),
        shutil.which("actionlint"),
    )
    if binary is None:
        pytest.fail("actionlint is missing: run `make tools`")
    result = subprocess.run(
        [binary, "-config-file", str(ROOT / ".github" / "actionlint.yaml"), *map(str, workflow_files())],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_action_is_pinned_by_commit_with_a_version_comment() -> None:
    for path in workflow_files():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            match = USES.match(line)
            if not match:
                continue
            ref, rest = match.groups()
            where = f"{path.name}:{number}"
            assert not ref.startswith("./"), f"{where}: local actions would escape this check"
            assert PINNED.match(ref), f"{where}: {ref} is not pinned to a 40-hex commit"
            assert re.search(r"#\s*v\d", rest), f"{where}: {ref} lacks a `# vX.Y.Z` comment"


def test_every_run_step_is_one_call_to_a_script_or_make_target() -> None:
    targets = make_targets()
    runs = [(f, j, s["run"]) for f, j, s in steps() if "run" in s]
    assert runs
    for file, job, command in runs:
        where = f"{file} job {job}: {command!r}"
        assert "\n" not in command.strip(), f"{where}: more than one line"
        assert not re.search(r"&&|\|\||;|\|", command), f"{where}: logic beyond one call"
        words = shlex.split(command)
        if words[0] == "make":
            assert words[1] in targets, f"{where}: no make target {words[1]!r}"
            continue
        script = words[1] if words[0] in INTERPRETERS else words[0]
        assert script.startswith("ci/"), f"{where}: not a script in ci/"
        assert (ROOT / script).is_file(), f"{where}: {script} does not exist"


def test_six_stages_in_dependency_order() -> None:
    jobs: dict[str, Any] = {}
    for path in workflow_files():
        jobs.update(load(path)["jobs"])
    assert set(STAGES) <= set(jobs), f"missing stages: {set(STAGES) - set(jobs)}"
    for earlier, later in itertools.pairwise(STAGES):
        needs = jobs[later].get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        assert earlier in needs, f"{later} must need {earlier}"
    assert "needs" not in jobs[STAGES[0]]


def test_build_and_test_runs_make_test_against_postgres_and_redis() -> None:
    job = load(WORKFLOWS / "pipeline.yml")["jobs"]["test"]
    assert any(s.get("run", "").strip() == "make test" for s in job["steps"])
    services = job["services"]
    assert services["postgres"]["image"] == "postgres:15"
    assert services["postgres"]["env"]["POSTGRES_USER"] == "root"
    assert services["postgres"]["env"]["POSTGRES_HOST_AUTH_METHOD"] == "trust"
    assert services["redis"]["image"] == "redis:7"


def test_least_privilege_and_concurrency() -> None:
    for path in workflow_files():
        doc = load(path)
        assert doc.get("permissions") == {}, f"{path.name}: the workflow must grant nothing by default"
        assert "concurrency" in doc, f"{path.name}: no concurrency group"
        for name, job in doc["jobs"].items():
            assert "permissions" in job, f"{path.name} job {name}: no permissions block"
            if job["permissions"].get("id-token") == "write":
                assert name == "publish", f"{name}: only the signing job gets an OIDC token"


def test_production_is_gated_by_the_protected_environment() -> None:
    jobs = load(WORKFLOWS / "pipeline.yml")["jobs"]
    for name in ("approve-production", "canary-production"):
        assert jobs[name]["environment"] == "production"
    assert "rollout_wait.sh" in " ".join(s.get("run", "") for s in jobs["canary-production"]["steps"])


def test_every_image_the_cluster_runs_is_built_scanned_signed_and_deployed() -> None:
    # The base names our images (the services' and the Envoy edge's): a release that pushed
    # one and not the other would leave a workload on the previous commit's routes or code.
    base = yaml.safe_load((ROOT / "cluster" / "base" / "stockmesh" / "kustomization.yaml").read_text())
    ours = {entry["newName"] for entry in base["images"]}
    doc = load(WORKFLOWS / "pipeline.yml")
    variables = {name for name, value in doc["env"].items() if value in ours}
    assert {doc["env"][name] for name in variables} == ours, "an image of the cluster has no variable"

    def text(job: str) -> str:
        return " ".join(str(step.get("run", "")) for step in doc["jobs"][job]["steps"])

    scanned = sum(1 for step in doc["jobs"]["security"]["steps"] if "trivy" in str(step.get("uses", "")))
    assert scanned == len(ours), "every image gets its own trivy scan"
    for name in variables:
        assert f"${name}@$DIGEST" in text("publish"), f"publish does not sign {name}"
        for job in ("deploy-staging", "canary-production"):
            assert f'--image "${name}"' in text(job), f"{job} does not bump {name}"
            assert f'--image "${name}:$TAG@' in text(job), f"{job} does not wait for {name}"
