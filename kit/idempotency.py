"""Exactly-once effect for mutating calls, keyed by the client's `request_id`.

The claim is the first write of the use case's own transaction: a row keyed by
(scope, request_id). A concurrent duplicate blocks on that key until the first
transaction ends; if it committed, the duplicate reads the stored result and
returns it, changing nothing; if it rolled back, the duplicate proceeds. So a
retry, by a client or by the mesh, can never take effect twice, and a failed
attempt leaves nothing behind to replay.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    bindparam,
    delete,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from kit.db import Database, UtcDateTime
from kit.request_keys import (
    DEFAULT_RETENTION,
    MAX_REQUEST_ID,
    Key,
    claim_row,
    fingerprint,
    validate_request_id,
)

__all__ = [
    "DEFAULT_RETENTION",
    "MAX_REQUEST_ID",
    "Key",
    "claim_row",
    "fingerprint",
    "purge_expired",
    "record",
    "table",
    "validate_request_id",
]


def table(metadata: MetaData) -> Table:
    """The idempotency table, added to each service's own metadata."""
    return Table(
        "idempotency_records",
        metadata,
        Column("scope", String(64), nullable=False),
        Column("request_id", String(MAX_REQUEST_ID), nullable=False),
        Column("operation", String(128), nullable=False),
        Column("fingerprint", String(64), nullable=False),
        Column("result", LargeBinary, nullable=True),
        Column("created_at", UtcDateTime, nullable=False),
        Column("expires_at", UtcDateTime, nullable=False, index=True),
        PrimaryKeyConstraint("scope", "request_id", name="pk_idempotency_records"),
    )


async def record(conn: AsyncConnection, records: Table, key: Key, result: bytes) -> None:
    """Store the first result of a claimed key, in the claim's transaction."""
    params = {"key_scope": key.scope, "key_request_id": key.request_id, "result": result}
    await conn.execute(_record_statement(records), params)


@functools.cache
def _record_statement(records: Table) -> Any:
    # Built once: every mutating call runs it, and building and hashing a
    # statement costs more than executing it.
    return (
        update(records)
        .where(records.c.scope == bindparam("key_scope"), records.c.request_id == bindparam("key_request_id"))
        .values(result=bindparam("result"))
    )


async def purge_expired(db: Database, records: Table, now: datetime) -> int:
    """Forget records past their retention at `now`; returns how many went."""
    async with db.transaction() as conn:
        result = await conn.execute(delete(records).where(records.c.expires_at < now))
    return int(result.rowcount or 0)
