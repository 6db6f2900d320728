"""Refresh tokens on SQL: only their hash is stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from svc_user import ports
from svc_user.domain import RefreshToken
from svc_user.store.tables import refresh_tokens


class SqlRefreshTokens(ports.RefreshTokens):
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, token: RefreshToken, token_hash: str, now: datetime) -> None:
        await self.conn.execute(
            insert(refresh_tokens).values(
                id=token.id,
                token_hash=token_hash,
                family_id=token.family_id,
                user_id=token.user_id,
                tenant_id=token.tenant_id,
                created_at=now,
                expires_at=token.expires_at,
                used_at=None,
                revoked_at=None,
            )
        )

    async def by_hash(self, token_hash: str) -> RefreshToken | None:
        query = select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash).with_for_update()
        row = (await self.conn.execute(query)).first()
        if row is None:
            return None
        return RefreshToken(
            id=row.id,
            family_id=row.family_id,
            user_id=row.user_id,
            tenant_id=row.tenant_id,
            expires_at=row.expires_at,
            used_at=row.used_at,
            revoked_at=row.revoked_at,
        )

    async def spend(self, token_id: str, now: datetime) -> bool:
        result = await self.conn.execute(
            update(refresh_tokens)
            .where(refresh_tokens.c.id == token_id, refresh_tokens.c.used_at.is_(None))
            .values(used_at=now)
        )
        return result.rowcount == 1

    async def revoke_family(self, family_id: str, now: datetime) -> None:
        await self.conn.execute(
            update(refresh_tokens)
            .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def revoke_of_user(self, user_id: str, now: datetime) -> None:
        await self.conn.execute(
            update(refresh_tokens)
            .where(refresh_tokens.c.user_id == user_id, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
