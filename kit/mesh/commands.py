"""`stockmesh mesh check` and `stockmesh mesh graph`: the mesh's policy files
validated, and who may call what drawn from them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kit import services
from kit.mesh import check, files, graph
from kit.mesh.rpcs import DescriptorError

FORMATS = {"table": graph.table, "mermaid": graph.mermaid}


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    mesh = sub.add_parser("mesh", help="check the mesh's policy files, or show who may call what")
    commands = mesh.add_subparsers(dest="mesh_command", required=True)
    where = f"the policy folder (default: ${files.MESH_DIR_VARIABLE} or {files.DEFAULT_DIR})"

    p = commands.add_parser("check", help="every problem of the policy; exit 1 if there is any")
    p.add_argument("--dir", type=Path, help=where)
    p.add_argument("--no-schemas", action="store_true", help="skip Istio's CRD schemas (they need Node.js)")
    p.set_defaults(handler=_check)

    p = commands.add_parser("graph", help="which account may call which RPCs of which service")
    p.add_argument("--dir", type=Path, help=where)
    p.add_argument("--format", choices=sorted(FORMATS), default="table", help="default: table")
    p.set_defaults(handler=_graph)


def _check(args: argparse.Namespace) -> int:
    directory: Path = args.dir or files.mesh_dir()
    found = check.problems(directory, schemas=not args.no_schemas)
    for line in found:
        print(line)
    if found:
        print(f"mesh check: {len(found)} problem{'' if len(found) == 1 else 's'}")
        return 1
    # Read again only to count: problems() has just read the same files.
    count = len(files.read(directory))
    print(f"mesh check: ok ({count} resources, {len(services.available())} services)")
    return 0


def _graph(args: argparse.Namespace) -> int:
    directory: Path = args.dir or files.mesh_dir()
    try:
        found = graph.edges(directory)
    except (files.PolicyError, DescriptorError) as exc:
        print(f"stockmesh mesh graph: {exc} (`stockmesh mesh check` lists every problem)", file=sys.stderr)
        return 1
    print(FORMATS[args.format](found), end="")
    return 0
