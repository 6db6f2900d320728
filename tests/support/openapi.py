"""Helpers of the OpenAPI specifications: finding operations in the generated
document, and validating JSON against its schemas."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

SCHEMAS = "#/components/schemas/"


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in doc["paths"].items() for method, op in item.items()]


def operation(doc: dict[str, Any], operation_id: str) -> tuple[str, str, dict[str, Any]]:
    return next(found for found in operations(doc) if found[2]["operationId"] == operation_id)


def validator(doc: dict[str, Any], target: dict[str, Any]) -> Draft202012Validator:
    """A JSON Schema validator for `target` whose `#/components/...` references resolve in `doc`."""
    return Draft202012Validator({**target, "components": doc["components"]})
