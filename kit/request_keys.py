"""What makes a mutating request take effect once: the client's request id,
scoped to who asked and to the operation, and a fingerprint of the command
(the same id with another command is refused rather than answered).
Pure, so ports and use cases can name it; the records' table is in kit.idempotency."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import msgspec

from kit import errors

DEFAULT_RETENTION = timedelta(hours=24)
MAX_REQUEST_ID = 128


@dataclass(frozen=True)
class Key:
    """Who asked (a tenant id, or a public scope such as a tenant slug) and which request."""

    scope: str
    request_id: str
    operation: str


def validate_request_id(request_id: str, field: str = "request_id") -> None:
    if not request_id:
        raise errors.InvalidArgument(
            [errors.FieldViolation(field, "required: a client-chosen id, unique per change")]
        )
    if len(request_id) > MAX_REQUEST_ID or not request_id.isprintable():
        raise errors.InvalidArgument(
            [errors.FieldViolation(field, f"at most {MAX_REQUEST_ID} printable characters")]
        )


def fingerprint(payload: object) -> str:
    return hashlib.sha256(msgspec.json.encode(payload, order="deterministic")).hexdigest()


def claim_row(
    key: Key,
    digest: str,
    now: datetime,
    *,
    result: bytes | None = None,
    retention: timedelta = DEFAULT_RETENTION,
) -> dict[str, Any]:
    """The row a claim inserts at `now`."""
    return {
        "scope": key.scope,
        "request_id": key.request_id,
        "operation": key.operation,
        "fingerprint": digest,
        "result": result,
        "created_at": now,
        "expires_at": now + retention,
    }
