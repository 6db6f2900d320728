"""What the product and variant lists share: the query's bounds and page
tokens tied to the filters they were made for."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from kit import paging
from kit.errors import FieldViolation, InvalidArgument

MAX_QUERY = 200


def check_query(query: str) -> None:
    if len(query) > MAX_QUERY:
        raise InvalidArgument([FieldViolation("query", f"at most {MAX_QUERY} characters")])


def digest(*filters: Any) -> str:
    """Ties a page token to the filters it was made for."""
    return hashlib.sha256(json.dumps(filters, default=str).encode()).hexdigest()[:16]


def cursor(token: str, filters: str, fields: Mapping[str, type]) -> dict[str, Any]:
    """The cursor of a page token made for these `filters`, with these `fields`."""
    found = paging.decode(token)
    if found and (
        found.get("f") != filters or not all(isinstance(found.get(k), t) for k, t in fields.items())
    ):
        raise InvalidArgument(
            [FieldViolation("page_token", "not a token from a previous page of this same request")]
        )
    return found
