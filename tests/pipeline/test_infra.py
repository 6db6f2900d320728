"""infra/: the Ansible playbooks pass --syntax-check, Terraform parses and checkov finds nothing."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / ".build" / "tools" / "bin"
ANSIBLE = ROOT / "infra" / "ansible"
TERRAFORM = ROOT / "infra" / "terraform"


def tool(name: str) -> Path:
    path = TOOLS / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make tools`")
    return path


def playbooks() -> list[Path]:
    """Top-level YAML files of plays: lists whose items name `hosts` or import a playbook."""

    def is_playbook(path: Path) -> bool:
        doc = yaml.safe_load(path.read_text())
        return isinstance(doc, list) and all(
            isinstance(play, dict) and ("hosts" in play or "ansible.builtin.import_playbook" in play)
            for play in doc
        )

    return sorted(p for p in ANSIBLE.glob("*.yml") if is_playbook(p))


def test_there_are_playbooks() -> None:
    assert [p.name for p in playbooks()] == ["site.yml"]


@pytest.mark.parametrize("playbook", playbooks(), ids=lambda p: p.name)
def test_playbook_syntax(playbook: Path) -> None:
    result = subprocess.run(
        [str(tool("ansible-playbook")), "--syntax-check", "-i", "inventory/example.ini", playbook.name],
        cwd=ANSIBLE,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": f"{TOOLS}:/usr/bin:/bin", "ANSIBLE_CONFIG": str(ANSIBLE / "ansible.cfg")},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_terraform_parses() -> None:
    # checkov's own HCL parser (the hcl2 module of the tools venv): terraform init would need
    # the provider registry, which is not reachable everywhere the tests run.
    script = (
        "import hcl2, json, pathlib, sys\n"
        "out = {}\n"
        "for p in sorted(pathlib.Path(sys.argv[1]).glob('*.tf')):\n"
        "    with p.open() as f:\n"
        "        out[p.name] = sorted(hcl2.load(f))\n"
        "print(json.dumps(out))\n"
    )
    result = subprocess.run(
        [str(tool("python")), "-c", script, str(TERRAFORM)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    blocks = json.loads(result.stdout)
    assert set(blocks) == {"main.tf", "outputs.tf", "variables.tf", "versions.tf"}
    assert "resource" in blocks["main.tf"]
    assert "output" in blocks["outputs.tf"]


def test_checkov_finds_nothing() -> None:
    result = subprocess.run(
        [str(tool("checkov")), "--quiet", "--skip-download", "--directory", str(TERRAFORM),
         "--framework", "terraform", "--output", "json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    report = json.loads(result.stdout)
    summary = report["summary"] if isinstance(report, dict) and "summary" in report else report
    assert summary["failed"] == 0, result.stdout
    assert summary["parsing_errors"] == 0, result.stdout
    # Skips only inline, each with its reason (`#checkov:skip=CKV_X:why`).
    for tf in TERRAFORM.glob("*.tf"):
        for line in tf.read_text().splitlines():
            if "checkov:skip=" in line:
                assert ":" in line.split("checkov:skip=", 1)[1], f"{tf.name}: a skip without a reason"
