"""Page sizes and opaque page tokens (AIP-158)."""

from __future__ import annotations

import base64
import json
from typing import Any

from kit.errors import FieldViolation, InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
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
