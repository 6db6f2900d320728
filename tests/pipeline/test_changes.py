"""ci/changes.py: which parts a change touches."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "ci"))
import changes


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        (["svc_stock/domain.py"], ["svc_stock"]),
        (["svc_order/service.py", "gateway/app.py"], ["svc_order", "gateway"]),
        (["console/src/app.js"], ["console"]),
        (["gateway/envoy/envoy.yaml", "gateway/envoy/Dockerfile"], ["edge"]),
        (["gateway/routes.py", "gateway/envoy/envoy.yaml"], ["gateway", "edge"]),
        (["docs/stock.md", "README.md", "tests/unit/test_tls.py"], []),
        (["cluster/overlays/prod/kustomization.yaml"], []),
        ([], []),
    ],
)
def test_paths_map_to_their_parts(paths: list[str], expected: list[str]) -> None:
    assert changes.parts_for(paths) == expected


@pytest.mark.parametrize(
    "shared",
    ["kit/db.py", "proto/stockmesh/stock/v1/stock.proto", "gen/x_pb2.py", "pyproject.toml", "Dockerfile"],
)
def test_a_shared_path_means_every_part(shared: str) -> None:
    assert changes.parts_for(["docs/x.md", shared]) == list(changes.PARTS)


def test_no_base_means_everything_changed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A tag or a branch's first push has before=000…: a missing diff must never skip a build.
    output = tmp_path / "out"
    assert changes.main(["--base", changes.ZERO_SHA, "--github-output", str(output)]) == 0
    assert capsys.readouterr().out.split() == list(changes.PARTS)
    assert "any=true" in output.read_text()


def test_outputs_for_github(tmp_path: Path) -> None:
    output = tmp_path / "out"
    assert changes.main(["--files", "svc_user/app.py", "docs/a.md", "--github-output", str(output)]) == 0
    assert output.read_text() == 'parts=["svc_user"]\nany=true\n'
    output.unlink()
    assert changes.main(["--files", "docs/a.md", "--github-output", str(output)]) == 0
    assert output.read_text() == "parts=[]\nany=false\n"
