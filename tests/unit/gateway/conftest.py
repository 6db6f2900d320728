"""Fixtures of the gateway's unit specifications: the route table of the
contracts and the OpenAPI document generated from it."""

from __future__ import annotations

from typing import Any

import pytest

from gateway import openapi
from gateway.routes import RouteTable


@pytest.fixture(scope="module")
def table() -> RouteTable:
    return RouteTable.load()


@pytest.fixture(scope="module")
def doc(table: RouteTable) -> dict[str, Any]:
    return openapi.document(table)
