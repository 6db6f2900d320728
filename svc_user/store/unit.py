"""svc_user's unit of work on SQL, and where its use cases get one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from kit.db import Database
from kit.sql import SqlUnitOfWork
from kit.uow import Units
from svc_user.ports import UserUnit
from svc_user.store.keys import SqlSigningKeys
from svc_user.store.tables import idempotency_records
from svc_user.store.tenants import SqlTenants
from svc_user.store.tokens import SqlRefreshTokens
from svc_user.store.users import SqlUsers


class SqlUserUnit(SqlUnitOfWork, UserUnit):
    def bind(self, conn: AsyncConnection) -> None:
        self.tenants = SqlTenants(conn)
        self.users = SqlUsers(conn)
        self.refresh_tokens = SqlRefreshTokens(conn)
        self.signing_keys = SqlSigningKeys(conn)


def units(db: Database, clock: Callable[[], datetime]) -> Units[UserUnit]:
    def open_unit(*, read_only: bool) -> UserUnit:
        return SqlUserUnit(db, idempotency_records, read_only=read_only)

    return Units(open_unit, clock)
