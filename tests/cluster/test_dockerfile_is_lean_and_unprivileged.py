"""The images' Dockerfiles lint clean with hadolint, pin every base by digest and run as a
numeric, non-root user with Docker's own health check off (Kubernetes probes instead)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.cluster.manifests import DOCKERFILES, ROOT, dockerfile_instructions
from tests.support.tools import tool

each_dockerfile = pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))


@each_dockerfile
def test_hadolint_finds_nothing(dockerfile: Path) -> None:
    done = subprocess.run(
        [str(tool("hadolint")), "--no-color", str(dockerfile)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"hadolint:\n{done.stdout}{done.stderr}"


@each_dockerfile
def test_every_base_image_is_pinned_by_digest(dockerfile: Path) -> None:
    steps = dockerfile_instructions(dockerfile)
    bases = [args.split()[0] for word, args in steps if word == "FROM"]
    stages = {args.split()[-1] for word, args in steps if word == "FROM" and " AS " in args.upper()}
    external = [b for b in bases if b not in stages]
    unpinned = [b for b in external if not re.search(r"@sha256:[0-9a-f]{64}$", b)]
    assert external, "the Dockerfile has no FROM"
    assert not unpinned, f"base images without a digest: {unpinned}"


@each_dockerfile
def test_the_runtime_stage_runs_as_a_numeric_non_root_user_without_healthcheck(dockerfile: Path) -> None:
    steps = dockerfile_instructions(dockerfile)
    last_from = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    runtime = steps[last_from:]
    users = [args for word, args in runtime if word == "USER"]
    assert users, "the runtime stage sets no USER: it would run as root"
    uid = users[-1].split(":")[0]
    assert uid.isdigit(), f"USER {users[-1]}: Kubernetes' runAsNonRoot can only verify a numeric UID"
    assert int(uid) != 0, f"USER {users[-1]} is root"
    assert ("HEALTHCHECK", "NONE") in runtime, "the runtime stage must say HEALTHCHECK NONE"
