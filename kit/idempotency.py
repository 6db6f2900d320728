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
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import msgspec
from sqlalchemy import (
    Column,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    bindparam,
    delete,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from kit import errors
from kit.db import Database, UtcDateTime

T = TypeVar("T")

DEFAULT_RETENTION = timedelta(hours=24)
MAX_REQUEST_ID = 128


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


async def once(
    db: Database,
    records: Table,
    key: Key,
    payload: object,
    result_type: type[T],
    work: Callable[[AsyncConnection], Awaitable[T]],
    *,
    retention: timedelta = DEFAULT_RETENTION,
) -> T:
    """Run `work` in a transaction unless `key` already took effect; either way
    return the first result. `payload` is the command: the same request_id with
    a different command is refused rather than silently answered."""
    validate_request_id(key.request_id)
    digest = fingerprint(payload)

    async def attempt(conn: AsyncConnection) -> T:
        previous = await _claim(conn, records, key, digest, retention)
        if previous is not None:
            return msgspec.json.decode(previous, type=result_type)
        result = await work(conn)
        await record(conn, records, key, result)
        return result

    return await db.run(attempt)


def claim_row(
    key: Key, digest: str, *, result: object = None, retention: timedelta = DEFAULT_RETENTION
) -> dict[str, Any]:
    """The row a claim inserts: for stores that claim inside a statement of
    their own, with the result when it is known before the statement runs."""
    now = datetime.now(UTC)
    return {
        "scope": key.scope,
        "request_id": key.request_id,
        "operation": key.operation,
        "fingerprint": digest,
        "result": None if result is None else msgspec.json.encode(result),
        "created_at": now,
        "expires_at": now + retention,
    }


async def record(conn: AsyncConnection, records: Table, key: Key, result: object) -> None:
    """Store the first result of a claimed key, in the claim's transaction."""
    params = {"key_scope": key.scope, "key_request_id": key.request_id, "result": msgspec.json.encode(result)}
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


async def _claim(
    conn: AsyncConnection, records: Table, key: Key, digest: str, retention: timedelta
) -> bytes | None:
    # ON CONFLICT DO NOTHING, not a savepoint around a plain INSERT: one round
    # trip, and on PostgreSQL a concurrent first request with the same key
    # still makes this one wait until it commits or rolls back.
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    claimed = await conn.execute(
        dialect_insert(records)
        .values(**claim_row(key, digest, retention=retention))
        .on_conflict_do_nothing(index_elements=[records.c.scope, records.c.request_id])
        .returning(records.c.request_id)
    )
    if claimed.first() is not None:
        return None
    row = (
        await conn.execute(
            select(records.c.operation, records.c.fingerprint, records.c.result).where(
                records.c.scope == key.scope, records.c.request_id == key.request_id
            )
        )
    ).one()
    if row.operation != key.operation or row.fingerprint != digest:
        raise errors.InvalidArgument(
            [
                errors.FieldViolation(
                    "request_id",
                    f"already used for a different request ({row.operation}); "
                    "choose a new id for a new change",
                )
            ],
            reason="REQUEST_ID_REUSED",
        )
    if row.result is None:  # pragma: no cover - the claim and result commit together
        raise errors.Aborted("the first request with this id is still running; retry")
    return bytes(row.result)


async def purge_expired(db: Database, records: Table) -> int:
    """Forget records past their retention; returns how many went."""
    async with db.transaction() as conn:
        result = await conn.execute(delete(records).where(records.c.expires_at < datetime.now(UTC)))
    return int(result.rowcount or 0)
