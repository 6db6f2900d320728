"""Page sizes and opaque page tokens (AIP-158)."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from kit.errors import FieldViolation, InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
T = TypeVar("T")
MAX_TOKEN = 2048  # our tokens hold one small cursor; anything longer is not ours


def page_size(requested: int) -> int:
    if requested < 0:
        raise InvalidArgument([FieldViolation("page_size", "must not be negative")])
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def encode(cursor: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(cursor, separators=(",", ":")).encode()).decode()


def decode(token: str, field: str = "page_token") -> dict[str, Any]:
    """The cursor inside a token; an empty token is the first page."""
    if not token:
        return {}
    cursor: Any = None
    if len(token) <= MAX_TOKEN:
        try:
            cursor = json.loads(base64.urlsafe_b64decode(token.encode()))
        except (ValueError, UnicodeDecodeError, RecursionError):
            cursor = None
    if not isinstance(cursor, dict):
        raise InvalidArgument([FieldViolation(field, "not a token from an earlier response")])
    return cursor


def filters_digest(*filters: object) -> str:
    """Ties a page token to the request it was made for (AIP-158): pass every
    parameter that picks the list's rows (never page_size), sets as sorted
    lists so that their order does not count; the page's cursor keeps the
    digest under "f" and `cursor_for` compares it."""
    return hashlib.sha256(json.dumps(filters, default=str).encode()).hexdigest()[:16]


def cursor_for(token: str, filters: str, fields: Mapping[str, type]) -> dict[str, Any]:
    """The cursor of a page token made for these `filters` (a `filters_digest`)
    with these `fields` ({} for the first page). Checking the fields' types
    keeps a token forged or from another list from failing deep in a query;
    a datetime field travels as ISO 8601 text with its offset."""
    found = decode(token)
    if found and (found.get("f") != filters or not all(_holds(found.get(k), t) for k, t in fields.items())):
        raise InvalidArgument(
            [FieldViolation("page_token", "not a token from a previous page of this same request")]
        )
    return found


def _holds(value: object, kind: type) -> bool:
    if kind is datetime:  # the times we keep are aware: a naive one would not compare with them
        try:
            return isinstance(value, str) and datetime.fromisoformat(value).tzinfo is not None
        except ValueError:
            return False
    return isinstance(value, kind)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list and the token of the next ('' on the last page)."""

    items: list[T]
    next_page_token: str


def page_of(found: Sequence[T], size: int, cursor: Callable[[T], dict[str, Any]]) -> Page[T]:
    """The page from rows fetched with `limit=size + 1`: the row beyond the
    page only says that another page follows; the token holds the cursor of
    the page's last row."""
    items = list(found[:size])
    more = len(found) > size
    return Page(items, encode(cursor(items[-1])) if more else "")
