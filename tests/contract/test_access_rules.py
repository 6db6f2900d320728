"""Each service's access rules are the ones its contract promises: the
"Roles:" line above every RPC in proto/ and the RULES table in service.py agree,
and the gateway's OpenAPI document tells clients the same roles."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from gateway import openapi
from gateway.openapi.roles import roles
from gateway.routes import RouteTable
from kit import auth, services
from kit.identity import Role

PROTO = Path(__file__).resolve().parents[2] / "proto" / "stockmesh"
EVERYONE = frozenset(Role)
RPC = re.compile(r"((?:[ \t]*//[^\n]*\n)+)[ \t]*rpc (\w+)\(")


def promised(service: str) -> dict[str, frozenset[Role] | None]:
    """RPC name -> roles named in its comment (None: public), read as the gateway's
    OpenAPI document reads them, so the document tells clients what the rules enforce."""
    out: dict[str, frozenset[Role] | None] = {}
    for path in (PROTO / service / "v1").glob("*.proto"):
        for comment, name in RPC.findall(path.read_text()):
            named = roles(" ".join(line.strip().lstrip("/").strip() for line in comment.splitlines()))
            assert named is not None, f"{name} in {path.name} names no Roles:"
            out[name] = frozenset(Role(word) for word in named) if named else None
    return out


def rules(service: str) -> dict[str, auth.Rule]:
    """gRPC path ("/stockmesh.stock.v1.StockService/ReceiveStock") -> the service's rule."""
    found: dict[str, auth.Rule] = importlib.import_module(f"{services.package(service)}.service").RULES
    return found


def granted(rule: auth.Rule) -> frozenset[Role] | None:
    if rule.public:
        return None
    return EVERYONE if rule.roles is None else rule.roles | {Role.ADMIN}


@pytest.mark.parametrize("service", services.available())
def test_every_rpc_admits_exactly_the_roles_its_contract_names(service: str) -> None:
    declared = {path.rsplit("/", 1)[1]: granted(rule) for path, rule in rules(service).items()}

    assert declared == promised(service)


def test_the_openapi_document_lists_for_each_operation_the_roles_its_rule_admits() -> None:
    document = openapi.document(RouteTable.load())
    enforced = {path: rule for service in services.available() for path, rule in rules(service).items()}
    operations = [op for item in document["paths"].values() for op in item.values()]

    assert operations
    for op in operations:
        admitted = granted(enforced[op["x-stockmesh-rpc"]])
        expected = [] if admitted is None else sorted(str(role) for role in admitted)
        assert op["x-stockmesh-roles"] == expected, op["operationId"]
