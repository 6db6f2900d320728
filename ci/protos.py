"""Proto build steps: copy googleapis imports, regenerate gen/, check gen/ is fresh.

    python ci/protos.py deps       # .build/protodeps from googleapis-common-protos
    python ci/protos.py generate   # regenerate gen/ from proto/
    python ci/protos.py check      # fail if gen/ differs from a fresh generation
    python ci/protos.py envoy-descriptors [--out FILE]
                                   # Envoy's descriptor set, built by buf (.build/stockmesh.binpb)
    python ci/protos.py edge-context [--out DIR]
                                   # the edge image's build context (.build/edge): envoy.yaml
                                   # and the descriptor set, for gateway/envoy/Dockerfile

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
DESCRIPTORS = "descriptors.binpb"
BUF = ROOT / "node_modules" / ".bin" / "buf"
ENVOY_DESCRIPTORS = ROOT / ".build" / "stockmesh.binpb"
ENVOY_CONFIG = ROOT / "gateway" / "envoy" / "envoy.yaml"
EDGE_CONTEXT = ROOT / ".build" / "edge"
# Beyond what the contracts import, Envoy's transcoder needs the google.rpc types
# the services put in grpc-status-details-bin (kit/status.py) to print them as
# JSON under convert_grpc_status; it knows only google.rpc.Status by itself.
ENVOY_EXTRA = ("google/rpc/status.proto", "google/rpc/error_details.proto")
IMPORT = re.compile(r'^import\s+(?:public\s+)?"([^"]+)";', re.MULTILINE)


def _googleapis_root() -> Path:
    import google.api.annotations_pb2 as annotations

    return Path(annotations.__file__).resolve().parent.parent.parent


def _our_protos() -> list[Path]:
    return sorted(PROTO.rglob("*.proto"))


def _reached(source: Path, texts: list[str]) -> set[str]:
    """The googleapis files the proto sources `texts` import, transitively."""
    pending = list(texts)
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
    return wanted


def _copy(source: Path, names: set[str], target: Path) -> None:
    for name in sorted(names):
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / name, target / name)


def copy_deps() -> None:
    """Copy every google/{api,type,rpc} proto our contracts reach, transitively."""
    source = _googleapis_root()
    wanted = _reached(source, [p.read_text() for p in _our_protos()])
    if DEPS.exists():
        shutil.rmtree(DEPS)
    _copy(source, wanted, DEPS)


def envoy_descriptors(out: Path = ENVOY_DESCRIPTORS) -> None:
    """Envoy's descriptor set, built by `buf build` from buf.yaml's workspace.

    buf includes every import and the source info (comments) unless told not
    to; `--as-file-descriptor-set` drops buf's own image metadata, leaving the
    plain FileDescriptorSet the transcoder reads. The workspace is staged in a
    temporary directory so the ENVOY_EXTRA files join the googleapis module
    there without changing .build/protodeps, which lint and breaking use.
    """
    if not BUF.exists():
        sys.exit(f"{BUF.relative_to(ROOT)} is missing: `make test` installs it (npm install)")
    copy_deps()
    source = _googleapis_root()
    extra = set(ENVOY_EXTRA) | _reached(source, [(source / name).read_text() for name in ENVOY_EXTRA])
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp)
        shutil.copyfile(ROOT / "buf.yaml", workspace / "buf.yaml")
        shutil.copytree(PROTO, workspace / "proto")
        shutil.copytree(DEPS, workspace / ".build" / "protodeps")
        _copy(source, extra, workspace / ".build" / "protodeps")
        out.parent.mkdir(parents=True, exist_ok=True)
        command = [str(BUF), "build", str(workspace), "--as-file-descriptor-set", "-o", str(out.resolve())]
        if subprocess.run(command, cwd=ROOT, check=False).returncode != 0:
            sys.exit("buf build failed")
    print(f"wrote {out}")


def edge_context(out: Path = EDGE_CONTEXT) -> None:
    """The build context of gateway/envoy/Dockerfile: exactly the two files the
    image copies, so nothing else of the repository can end up in it."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    shutil.copyfile(ENVOY_CONFIG, out / ENVOY_CONFIG.name)
    envoy_descriptors(out / ENVOY_DESCRIPTORS.name)
    print(f"wrote {out}")


def _protoc(out: Path) -> None:
    from grpc_tools import protoc

    (out / "stockmesh").mkdir(parents=True, exist_ok=True)
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
        # Every contract with its imports and comments, in one file: the
        # gateway builds its routes and the OpenAPI document from it.
        f"--descriptor_set_out={out / 'stockmesh' / DESCRIPTORS}",
        "--include_imports",
        "--include_source_info",
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
    parser.add_argument("step", choices=["deps", "generate", "check", "envoy-descriptors", "edge-context"])
    parser.add_argument(
        "--out",
        type=Path,
        help=(
            f"envoy-descriptors: the file (default {ENVOY_DESCRIPTORS}); "
            f"edge-context: the folder (default {EDGE_CONTEXT})"
        ),
    )
    args = parser.parse_args()
    if args.out is not None and args.step not in ("envoy-descriptors", "edge-context"):
        parser.error("--out applies to envoy-descriptors and edge-context only")
    if args.step == "envoy-descriptors":
        envoy_descriptors(args.out or ENVOY_DESCRIPTORS)
        return
    if args.step == "edge-context":
        edge_context(args.out or EDGE_CONTEXT)
        return
    {"deps": copy_deps, "generate": generate, "check": check}[args.step]()


if __name__ == "__main__":
    main()
