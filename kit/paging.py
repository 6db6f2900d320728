"""Page sizes and opaque page tokens (AIP-158)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
