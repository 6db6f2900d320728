"""The disaster-recovery drill (`ci/dr-drill`) as the test command runs it: on
the local PostgreSQL, backups taken while traffic flows, restored into new
databases, and every check holding on the copies."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests import harness
from tests.e2e.system import ROOT, environment

pytestmark = pytest.mark.postgres


def test_the_drill_restores_the_backups_with_no_drift_and_no_request_applied_twice(tmp_path: Path) -> None:
    harness.require_postgres()
    done = subprocess.run(
        [sys.executable, str(ROOT / "ci" / "dr-drill"), "--seconds", "6"],
        cwd=ROOT,
        env=environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    print(done.stdout)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == "drill passed"
    assert re.search(r"^backup +5 databases, [\d.]+ MB, [\d.]+ s while traffic flowed", done.stdout, re.M)
    assert re.search(r"^restore +[\d.]+ s into 5 new databases", done.stdout, re.M)
    rpo = re.search(r"^RPO +[\d.]+ s .*: (\d+) writes acknowledged in it, (\d+) missing", done.stdout, re.M)
    assert rpo, done.stdout
    # Traffic went on after the snapshots, so the disaster took some of it: the retries were tested.
    assert int(rpo.group(2)) > 0
