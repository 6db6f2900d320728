"""Units of work on SQL (SQLite or PostgreSQL): a connection in a transaction,
the idempotency claims in the service's own `idempotency_records` table, and
the repositories a service builds on that connection (`bind`)."""

from __future__ import annotations

import abc
from datetime import datetime, timedelta
from types import TracebackType
from typing import Self

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from kit import errors, idempotency
from kit.db import Database, raise_translated
from kit.request_keys import Key
from kit.uow import Claims, UnitOfWork, reused


class SqlClaims(Claims):
    def __init__(self, conn: AsyncConnection, records: Table) -> None:
        self.conn = conn
        self.records = records

    async def claim(self, key: Key, digest: str, now: datetime, retention: timedelta) -> bytes | None:
        # ON CONFLICT DO NOTHING, not a savepoint around a plain INSERT: one
        # round trip, and on PostgreSQL a concurrent first request with the
        # same key waits here until that one commits or rolls back.
        records = self.records
        dialect_insert = pg_insert if self.conn.dialect.name == "postgresql" else sqlite_insert
        claimed = await self.conn.execute(
            dialect_insert(records)
            .values(**idempotency.claim_row(key, digest, now, retention=retention))
            .on_conflict_do_nothing(index_elements=[records.c.scope, records.c.request_id])
            .returning(records.c.request_id)
        )
        if claimed.first() is not None:
            return None
        row = (
            await self.conn.execute(
                select(records.c.operation, records.c.fingerprint, records.c.result).where(
                    records.c.scope == key.scope, records.c.request_id == key.request_id
                )
            )
        ).one()
        if row.operation != key.operation or row.fingerprint != digest:
            raise reused(row.operation)
        if row.result is None:  # pragma: no cover - the claim and its result commit together
            raise errors.Aborted("the first request with this id is still running; retry")
        return bytes(row.result)

    async def record(self, key: Key, result: bytes) -> None:
        await idempotency.record(self.conn, self.records, key, result)

    async def forget(self, key: Key) -> None:
        records = self.records
        await self.conn.execute(
            records.delete().where(records.c.scope == key.scope, records.c.request_id == key.request_id)
        )


class SqlUnitOfWork(UnitOfWork):
    """A transaction on one pooled connection. Subclasses add repositories
    in `bind`, built on `self.conn`. Database errors leave it translated
    (kit.db): a conflict as retryable ABORTED, a lost database UNAVAILABLE."""

    conn: AsyncConnection

    def __init__(
        self, db: Database, records: Table, *, read_only: bool = False, repeatable: bool = False
    ) -> None:
        self.db = db
        self.records = records
        self.read_only = read_only
        self.repeatable = repeatable
        self._open = False

    @abc.abstractmethod
    def bind(self, conn: AsyncConnection) -> None:
        """Build the repositories on the unit's connection."""

    async def __aenter__(self) -> Self:
        self.conn = await self.db.begin(read_only=self.read_only, repeatable=self.repeatable)
        self._open = True
        self.claims = SqlClaims(self.conn, self.records)
        self.bind(self.conn)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        try:
            if self.read_only and error is None and self._open:
                # Nothing to undo, and a COMMIT keeps the connection's
                # prepared statements, which psycopg drops on any ROLLBACK.
                await self.commit()
            await self.rollback()
        except DBAPIError as exc:
            if error is None:  # the failed rollback is the only error to tell
                raise_translated(exc)
        finally:
            await self.conn.close()
        if isinstance(error, DBAPIError):
            raise_translated(error)

    async def commit(self) -> None:
        try:
            await self.conn.commit()
        except DBAPIError as exc:
            raise_translated(exc)
        finally:
            self._open = False

    async def rollback(self) -> None:
        if self._open:
            self._open = False
            await self.conn.rollback()


class BareUnitOfWork(SqlUnitOfWork):
    """A unit of work with only its connection: for code that still writes
    SQL on the connection itself (migrations between styles, admin tools)."""

    def bind(self, conn: AsyncConnection) -> None:
        pass
