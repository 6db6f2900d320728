"""Every check the project passes, in order; `make test` runs them all.

    python ci/test.py                 # everything
    python ci/test.py --only lint     # one step (repeatable)

With CI=true, PostgreSQL and Redis must be reachable (tests fail, never skip).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
BUF = str(ROOT / "node_modules" / ".bin" / "buf")
SERVICES = sorted(p.name for p in ROOT.glob("svc_*") if (p / "__init__.py").exists())
CODE = ["kit", "clients", "gateway", "tools", *SERVICES, "ci", "tests", "bench"]
TYPED = ["kit", "clients", "gateway", "tools", *SERVICES, "ci/smoke"]

STEPS: dict[str, list[list[str]]] = {
    "lint": [
        [PY, "-m", "ruff", "check", *CODE],
        [PY, "-m", "ruff", "format", "--check", *CODE],
        [str(Path(PY).parent / "lint-imports")],
    ],
    "types": [[PY, "-m", "mypy", *TYPED]],
    "buf-lint": [[PY, "ci/protos.py", "deps"], [BUF, "lint"]],
    "buf-breaking": [[PY, "ci/buf_breaking.py"]],
    "gen": [[PY, "ci/protos.py", "check"]],
    "mesh": [[PY, "-m", "kit.cli", "mesh", "check"]],
    "pytest": [[PY, "-m", "pytest"]],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=list(STEPS), help="run only these steps")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments")
    args = parser.parse_args()
    chosen = args.only or list(STEPS)
    results: list[tuple[str, bool, float]] = []
    for name in chosen:
        started = time.monotonic()
        ok = True
        for step in STEPS[name]:
            command = [*step, *args.pytest_args] if name == "pytest" else step
            print(f"\n== {name}: {' '.join(command)}", flush=True)
            if subprocess.run(command, cwd=ROOT, env=os.environ, check=False).returncode != 0:
                ok = False
                break
        results.append((name, ok, time.monotonic() - started))
    print("\n== summary")
    for name, ok, seconds in results:
        print(f"  {'ok  ' if ok else 'FAIL'} {name:<13} {seconds:6.1f}s")
    return 0 if all(ok for _, ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
