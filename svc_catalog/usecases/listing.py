"""What the product and variant lists share: the query's bounds. Their page
tokens are tied to the filters they were made for by `kit.paging`."""

from __future__ import annotations

from kit.errors import FieldViolation, InvalidArgument

MAX_QUERY = 200


def check_query(query: str) -> None:
    if len(query) > MAX_QUERY:
        raise InvalidArgument([FieldViolation("query", f"at most {MAX_QUERY} characters")])
