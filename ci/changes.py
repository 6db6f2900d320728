"""Which deployable parts a change touches: the pipeline's change detection.

    python ci/changes.py --base origin/main --head HEAD        # asks git for the changed paths
    python ci/changes.py --files kit/db.py docs/mesh.md         # or takes them as given
    python ci/changes.py ... --github-output "$GITHUB_OUTPUT"   # also writes the job's outputs

Prints one line per part (svc_user … svc_order, gateway, console, and edge,
the Envoy image of gateway/envoy/). A path under a shared directory (kit/,
proto/, gen/, clients/, the build files) means every part, because each
service imports it or is built from it; paths that ship nowhere (docs/, the
README) mean none. With no usable base (the first push of a branch, a tag)
every part counts as changed, since a missing diff must never skip a build.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARTS = ("svc_user", "svc_catalog", "svc_stock", "svc_procure", "svc_order", "gateway", "console", "edge")
# Folders that build a part of their own although they sit inside another part's folder.
NESTED_PARTS = {"gateway/envoy/": "edge"}
# Every service imports these or is built from them, so a change here rebuilds all.
SHARED_PREFIXES = ("kit/", "proto/", "gen/", "clients/", "mesh/", "cluster/base/")
SHARED_FILES = frozenset({"pyproject.toml", "Dockerfile", "package.json", "buf.yaml", "Makefile"})
# Tooling and prose: tested by the pipeline, but they change no image.
NEUTRAL_PREFIXES = ("docs/", "tests/", "bench/", ".github/", "ci/", "infra/", "tools/")
ZERO_SHA = "0" * 40


def parts_for(paths: Iterable[str]) -> list[str]:
    """The parts the changed `paths` touch, in PARTS order."""
    touched: set[str] = set()
    for raw in paths:
        path = raw.strip().removeprefix("./")
        if not path:
            continue
        if path in SHARED_FILES or path.startswith(SHARED_PREFIXES):
            return list(PARTS)
        nested = next((part for prefix, part in NESTED_PARTS.items() if path.startswith(prefix)), None)
        if nested is not None:
            touched.add(nested)
            continue
        top = path.split("/", 1)[0]
        # Anything else (docs, tests, overlays that Argo CD syncs by itself) builds no image.
        if top in PARTS:
            touched.add(top)
    return [part for part in PARTS if part in touched]


def changed_paths(base: str, head: str) -> list[str] | None:
    """The paths changed between `base` and `head`; None when git cannot tell."""
    if not base or base == ZERO_SHA:
        return None
    result = subprocess.run(
        ["git", "diff", "--name-only", f"{base}...{head}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        print(f"changes: cannot diff {base}...{head}: {result.stderr.strip()}", file=sys.stderr)
        return None
    return result.stdout.splitlines()


def write_outputs(target: Path, parts: list[str]) -> None:
    """GitHub Actions job outputs: the parts as a JSON list, and whether any changed."""
    with target.open("a", encoding="utf-8") as out:
        out.write(f"parts={json.dumps(parts)}\n")
        out.write(f"any={'true' if parts else 'false'}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--base", help="the commit to compare with (a PR's base, a push's `before`)")
    source.add_argument("--files", nargs="*", help="the changed paths, instead of asking git")
    parser.add_argument("--head", default="HEAD", help="the commit under test (default: HEAD)")
    parser.add_argument("--github-output", type=Path, help="append parts=/any= to this file")
    args = parser.parse_args(argv)
    paths = args.files if args.files is not None else changed_paths(args.base, args.head)
    parts = list(PARTS) if paths is None else parts_for(paths)
    for part in parts:
        print(part)
    if args.github_output:
        write_outputs(args.github_output, parts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
