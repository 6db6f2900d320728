"""Proto build steps: copy googleapis imports, regenerate gen/, check gen/ is fresh.

    python ci/protos.py deps       # .build/protodeps from googleapis-common-protos
    python ci/protos.py generate   # regenerate gen/ from proto/
    python ci/protos.py check      # fail if gen/ differs from a fresh generation

The googleapis protos are read from the installed googleapis-common-protos
package, never committed: only the files our contracts import (and what those
import in turn) are copied, so buf does not build the whole of googleapis.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO = ROOT / "proto"
DEPS = ROOT / ".build" / "protodeps"
GEN = ROOT / "gen"
IMPORT = re.compile(r'^import\s+(?:public\s+)?"([^"]+)";', re.MULTILINE)


def _googleapis_root() -> Path:
    import google.api.annotations_pb2 as annotations

    return Path(annotations.__file__).resolve().parent.parent.parent


def _our_protos() -> list[Path]:
    return sorted(PROTO.rglob("*.proto"))


def copy_deps() -> None:
    """Copy every google/{api,type,rpc} proto our contracts reach, transitively."""
    source = _googleapis_root()
    pending = [p.read_text() for p in _our_protos()]
    wanted: set[str] = set()
    while pending:
        for name in IMPORT.findall(pending.pop()):
            if name.startswith(("google/protobuf/", "stockmesh/")):
                continue  # well-known types ship with protoc and buf
            if name in wanted:
                continue
            path = source / name
            if not path.exists():
                sys.exit(f"import {name!r} is not in googleapis-common-protos at {source}")
            wanted.add(name)
            pending.append(path.read_text())
    if DEPS.exists():
        shutil.rmtree(DEPS)
    for name in sorted(wanted):
        target = DEPS / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / name, target)


def _protoc(out: Path) -> None:
    from grpc_tools import protoc

    out.mkdir(parents=True, exist_ok=True)
    # protoc finds protoc-gen-mypy on PATH; it sits beside this interpreter.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    files = [str(p.relative_to(PROTO)) for p in _our_protos()]
    include = Path(protoc.__file__).parent / "_proto"
    args = [
        "protoc",
        f"-I{PROTO}",
        f"-I{DEPS}",
        f"-I{include}",
        f"--python_out={out}",
        f"--grpc_python_out={out}",
        f"--mypy_out=quiet:{out}",
        f"--mypy_grpc_out=quiet:{out}",
        *files,
    ]
    if protoc.main(args) != 0:
        sys.exit("protoc failed")
    for package in {p.parent for p in out.rglob("*_pb2.py")}:
        for directory in [package, *package.parents]:
            if directory == out:
                break
            (directory / "__init__.py").touch()
    (out / "stockmesh" / "py.typed").touch()


def generate() -> None:
    copy_deps()
    if GEN.exists():
        shutil.rmtree(GEN)
    _protoc(GEN)
    subprocess.run([sys.executable, "-m", "ruff", "format", "--quiet", str(GEN)], check=False)


def check() -> None:
    copy_deps()
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "gen"
        _protoc(fresh)
        subprocess.run([sys.executable, "-m", "ruff", "format", "--quiet", str(fresh)], check=False)
        stale = _differences(fresh, GEN)
    if stale:
        print("gen/ is stale; run `make gen` and commit the result. Differences:")
        for line in stale:
            print(f"  {line}")
        sys.exit(1)
    print("gen/ matches proto/")


def _differences(fresh: Path, committed: Path) -> list[str]:
    def files(root: Path) -> set[str]:
        if not root.exists():
            return set()
        return {
            str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
        }

    ours, theirs = files(fresh), files(committed)
    out = [f"missing: gen/{name}" for name in sorted(ours - theirs)]
    out += [f"extra: gen/{name}" for name in sorted(theirs - ours)]
    for name in sorted(ours & theirs):
        if not filecmp.cmp(fresh / name, committed / name, shallow=False):
            out.append(f"differs: gen/{name}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["deps", "generate", "check"])
    step = parser.parse_args().step
    {"deps": copy_deps, "generate": generate, "check": check}[step]()


if __name__ == "__main__":
    main()
