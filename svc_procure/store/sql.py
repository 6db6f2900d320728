"""What the repositories share beyond their tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, String, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect, Result


def one_of(column: ColumnElement[str], values: Sequence[str], dialect: Dialect) -> ColumnElement[bool]:
    """`column` is one of `values` (a page of up to 1000 SKUs). PostgreSQL
    gets them as one array, `= ANY(:values)`, which its indexes serve like
    an IN list: a thousand placeholders would be rendered by SQLAlchemy and
    parsed again by psycopg on every page (too long for its query cache).
    SQLite has no arrays: an IN list."""
    wanted = list(dict.fromkeys(values))
    if dialect.name == "postgresql":
        return column == any_(bindparam(None, wanted, type_=ARRAY(String)))
    return column.in_(wanted)


def rows_as_dicts(result: Result[Any]) -> list[dict[str, Any]]:
    """Every row as {column: value}, the column names looked up once."""
    names = list(result.keys())
    return [dict(zip(names, row, strict=True)) for row in result]
