"""Each service's access rules are the ones its contract promises: the
"Roles:" line above every RPC in proto/ and the RULES table in service.py agree."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from kit import auth, services
from kit.identity import Role

PROTO = Path(__file__).resolve().parents[2] / "proto" / "stockmesh"
EVERYONE = frozenset(Role)
RPC = re.compile(r"((?:[ \t]*//[^\n]*\n)+)[ \t]*rpc (\w+)\(")
ROLES = re.compile(r"Roles:\s*([^.(]*)")


def promised(service: str) -> dict[str, frozenset[Role] | None]:
    """RPC name -> roles named in its comment (None: public)."""
    out: dict[str, frozenset[Role] | None] = {}
    for path in (PROTO / service / "v1").glob("*.proto"):
        for comment, name in RPC.findall(path.read_text()):
            found = ROLES.search(" ".join(line.strip().lstrip("/").strip() for line in comment.splitlines()))
            assert found, f"{name} in {path.name} says no Roles:"
            # "admin, manager; clerk within a limit": a qualified role is still admitted
            # by the rule, and the use case applies the qualification.
            words = {
                w.strip().split(" ")[0] for clause in found.group(1).split(";") for w in clause.split(",")
            }
            public = found.group(1).strip().startswith("none: public")
            out[name] = None if public else frozenset(Role(w) for w in words if w)
    return out


def granted(rule: auth.Rule) -> frozenset[Role] | None:
    if rule.public:
        return None
    return EVERYONE if rule.roles is None else rule.roles | {Role.ADMIN}


@pytest.mark.parametrize("service", services.available())
def test_every_rpc_admits_exactly_the_roles_its_contract_names(service: str) -> None:
    rules = importlib.import_module(f"{services.package(service)}.service").RULES
    declared = {path.rsplit("/", 1)[1]: granted(rule) for path, rule in rules.items()}

    assert declared == promised(service)
