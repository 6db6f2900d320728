"""Each operation of the OpenAPI document says who may call it (`x-stockmesh-roles`), as its
contract's `Roles:` line says: the sorted role names, or none for a public route."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.openapi.roles import roles
from tests.support.openapi import operation, operations

EVERY_ROLE = ["admin", "buyer", "clerk", "manager", "viewer"]


def test_an_operation_lists_the_roles_its_contract_names_sorted(doc: dict[str, Any]) -> None:
    assert operation(doc, "StockService_ReceiveStock")[2]["x-stockmesh-roles"] == [
        "admin",
        "clerk",
        "manager",
    ]
    assert operation(doc, "StockService_ListStockLevels")[2]["x-stockmesh-roles"] == EVERY_ROLE


def test_a_public_operation_lists_no_role(doc: dict[str, Any]) -> None:
    assert operation(doc, "AuthService_Login")[2]["x-stockmesh-roles"] == []


def test_every_operation_says_who_may_call_it_and_only_public_ones_name_nobody(doc: dict[str, Any]) -> None:
    for _, _, op in operations(doc):
        assert "x-stockmesh-roles" in op, op["operationId"]
        assert (op["x-stockmesh-roles"] == []) == (op["security"] == []), op["operationId"]


def test_the_document_explains_the_extension(doc: dict[str, Any]) -> None:
    assert "`x-stockmesh-roles` lists the roles that may call each operation" in doc["info"]["description"]


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("Records a receipt.\nRoles: admin, manager, clerk.", ["admin", "clerk", "manager"]),
        # A role admitted with a qualification is still admitted; the use case applies the qualification.
        (
            "Roles: admin, manager; clerk for lines whose delta is within the tenant's\n"
            "clerk adjustment limit (default 10 units either way), larger is PERMISSION_DENIED.",
            ["admin", "clerk", "manager"],
        ),
        # A parenthesis qualifies the roles before it and names no further one.
        (
            "Roles: admin, manager, clerk, buyer, viewer (other users than oneself: admin, manager).",
            EVERY_ROLE,
        ),
        ("Logs in.\nRoles: none: public.", []),
    ],
)
def test_the_roles_line_is_read_clause_by_clause_first_word_of_each(
    comment: str, expected: list[str]
) -> None:
    assert roles(comment) == expected


@pytest.mark.parametrize("comment", ["", "Reads a warehouse.", "Roles: ."])
def test_a_comment_that_names_no_role_promises_nothing_rather_than_public(comment: str) -> None:
    assert roles(comment) is None
