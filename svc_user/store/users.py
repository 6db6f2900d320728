"""Users and their credentials on SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from kit.identity import Role
from svc_user import ports
from svc_user.domain import Credentials, User
from svc_user.store.tables import users


def _user(row: Any) -> User:
    return User(
        id=row.id,
        tenant_id=row.tenant_id,
        email=row.email,
        display_name=row.display_name,
        roles=tuple(Role(r) for r in row.roles.split(",")),
        disabled=row.disabled,
        created_at=row.created_at,
        updated_at=row.updated_at,
        last_login_at=row.last_login_at,
        version=row.version,
    )


def _roles(roles: tuple[Role, ...]) -> str:
    return ",".join(sorted({r.value for r in roles}))


class SqlUsers(ports.Users):
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, user: User, password_hash: str) -> None:
        await self.conn.execute(
            insert(users).values(
                id=user.id,
                tenant_id=user.tenant_id,
                email=user.email,
                display_name=user.display_name,
                roles=_roles(user.roles),
                disabled=user.disabled,
                password_hash=password_hash,
                failed_logins=0,
                locked_until=None,
                last_login_at=None,
                created_at=user.created_at,
                updated_at=user.updated_at,
                version=user.version,
            )
        )

    async def get(self, tenant_id: str, user_id: str) -> User | None:
        query = select(users).where(users.c.tenant_id == tenant_id, users.c.id == user_id)
        row = (await self.conn.execute(query)).first()
        return _user(row) if row else None

    async def email_taken(self, tenant_id: str, email: str) -> bool:
        query = select(users.c.id).where(users.c.tenant_id == tenant_id, users.c.email == email)
        return (await self.conn.execute(query)).first() is not None

    async def credentials(self, tenant_id: str, email: str) -> Credentials | None:
        query = select(users).where(users.c.tenant_id == tenant_id, users.c.email == email)
        row = (await self.conn.execute(query)).first()
        if row is None:
            return None
        return Credentials(_user(row), row.password_hash, row.failed_logins, row.locked_until)

    async def password_hash(self, tenant_id: str, user_id: str) -> str | None:
        query = select(users.c.password_hash).where(users.c.tenant_id == tenant_id, users.c.id == user_id)
        return (await self.conn.execute(query)).scalar()

    async def page_by_email(
        self, tenant_id: str, *, after_email: str, limit: int, role: Role | None, show_disabled: bool
    ) -> list[User]:
        query = select(users).where(users.c.tenant_id == tenant_id, users.c.email > after_email)
        if not show_disabled:
            query = query.where(users.c.disabled.is_(False))
        if role is not None:
            # roles is a sorted comma list; match the whole word.
            padded = "," + users.c.roles + ","
            query = query.where(padded.contains(f",{role.value},"))
        rows = (await self.conn.execute(query.order_by(users.c.email).limit(limit))).all()
        return [_user(r) for r in rows]

    async def of_tenant(self, tenant_id: str, *, lock: bool = False) -> list[User]:
        query = select(users).where(users.c.tenant_id == tenant_id).order_by(users.c.id)
        if lock:
            query = query.with_for_update()
        return [_user(r) for r in (await self.conn.execute(query)).all()]

    async def save(self, user: User, expected_version: int) -> bool:
        result = await self.conn.execute(
            update(users)
            .where(
                users.c.id == user.id,
                users.c.tenant_id == user.tenant_id,
                users.c.version == expected_version,
            )
            .values(
                display_name=user.display_name,
                roles=_roles(user.roles),
                disabled=user.disabled,
                updated_at=user.updated_at,
                version=user.version,
            )
        )
        return result.rowcount == 1

    async def set_password(self, tenant_id: str, user_id: str, password_hash: str, now: datetime) -> None:
        await self.conn.execute(
            update(users)
            .where(users.c.tenant_id == tenant_id, users.c.id == user_id)
            .values(
                password_hash=password_hash,
                updated_at=now,
                version=users.c.version + 1,
                failed_logins=0,
                locked_until=None,
            )
        )

    async def count_failed_login(self, user_id: str) -> int:
        result = await self.conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(failed_logins=users.c.failed_logins + 1)
            .returning(users.c.failed_logins)
        )
        return int(result.scalar_one())

    async def lock(self, user_id: str, until: datetime) -> None:
        await self.conn.execute(update(users).where(users.c.id == user_id).values(locked_until=until))

    async def record_login(self, user_id: str, now: datetime) -> None:
        await self.conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(failed_logins=0, locked_until=None, last_login_at=now)
        )
