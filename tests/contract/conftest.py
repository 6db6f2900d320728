"""Fixtures of the contract tests: the Envoy edge, loaded from gateway/envoy/envoy.yaml, and the
edge image's build context with the descriptor set its transcoder reads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.harness import ROOT

if TYPE_CHECKING:
    from tests.support.envoy_edge import Edge

BUF = ROOT / "node_modules" / ".bin" / "buf"


@pytest.fixture(scope="module")
def edge() -> Edge:
    # Imported here, so that the contract tests that need no Envoy do not load its API types.
    from tests.support.envoy_config import CONFIG, load, read
    from tests.support.envoy_edge import Edge

    return Edge(load(read(CONFIG.read_text())))


@pytest.fixture(scope="session")
def edge_context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder the pipeline builds the edge image from (`ci/protos.py edge-context`):
    envoy.yaml and the descriptor set buf builds of proto/."""
    if not BUF.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{BUF} is missing under CI=true: `make test` installs buf with npm")
        pytest.skip(f"{BUF.relative_to(ROOT)} is not installed (`make test` or `npm install` installs it)")
    out = tmp_path_factory.mktemp("edge") / "context"
    step = [sys.executable, str(ROOT / "ci" / "protos.py"), "edge-context", "--out", str(out)]
    built = subprocess.run(step, cwd=ROOT, capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stdout + built.stderr
    return out
