"""WHERE clauses that both databases answer, written once for every store."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, String, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect


def one_of(column: ColumnElement[str], values: Iterable[str], dialect: Dialect) -> ColumnElement[bool]:
    """`column` is one of `values` (a page of SKUs, the products of a page).
    PostgreSQL gets them as one array, `= ANY(:values)`, which its indexes
    serve like an IN list: an IN list of n placeholders is rendered by
    SQLAlchemy on every call, and past some fifty of them the statement
    outgrows psycopg's 4 kB query cache, so psycopg parses it again and
    never prepares it. SQLite has no arrays: an IN list."""
    wanted = list(dict.fromkeys(values))
    if dialect.name == "postgresql":
        return column == any_(bindparam(None, wanted, type_=ARRAY(String)))
    return column.in_(wanted)
