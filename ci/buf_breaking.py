"""buf breaking against the contracts' history on this branch.

The working tree is compared with every earlier commit that changed proto/ or
buf.yaml (the newest 30), so a field removed in one commit and re-added later
is still caught wherever it broke. The very first commit, with nothing before
it, is the only pass-through.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import protos

ROOT = protos.ROOT
BUF = ROOT / "node_modules" / ".bin" / "buf"
HISTORY = 30


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout


def main() -> int:
    try:
        commits = _git("rev-list", f"--max-count={HISTORY}", "HEAD", "--", "proto", "buf.yaml").split()
    except subprocess.CalledProcessError as exc:
        print(f"buf breaking: cannot read git history: {exc.stderr.strip()}")
        return 1
    if not commits:
        print("buf breaking: no earlier contract in history (first commit): nothing to compare")
        return 0
    protos.copy_deps()
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for commit in commits:
            tree = Path(tmp) / commit
            tree.mkdir()
            archive = subprocess.run(
                ["git", "archive", commit, "proto", "buf.yaml"], cwd=ROOT, check=True, capture_output=True
            ).stdout
            subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
            shutil.copytree(protos.DEPS, tree / ".build" / "protodeps")
            result = subprocess.run(
                [str(BUF), "breaking", str(ROOT), "--against", str(tree)], cwd=ROOT, check=False
            )
            status = "ok" if result.returncode == 0 else "BREAKING"
            print(f"buf breaking against {commit[:12]}: {status}")
            failed += result.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
