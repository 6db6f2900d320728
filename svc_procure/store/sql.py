"""What the repositories share beyond their tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Result


def rows_as_dicts(result: Result[Any]) -> list[dict[str, Any]]:
    """Every row as {column: value}, the column names looked up once."""
    names = list(result.keys())
    return [dict(zip(names, row, strict=True)) for row in result]
