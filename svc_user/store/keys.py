"""Signing keys on SQL."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from svc_user import ports
from svc_user.domain import SigningKey
from svc_user.store.tables import signing_keys


class SqlSigningKeys(ports.SigningKeys):
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, key: SigningKey) -> None:
        await self.conn.execute(
            insert(signing_keys).values(
                kid=key.kid,
                private_pem=key.private_pem,
                public_jwk=key.public_jwk,
                created_at=key.created_at,
                retired_at=None,
            )
        )

    async def active(self) -> SigningKey | None:
        query = (
            select(signing_keys)
            .where(signing_keys.c.retired_at.is_(None))
            .order_by(signing_keys.c.created_at.desc(), signing_keys.c.kid)
            .limit(1)
        )
        row = (await self.conn.execute(query)).first()
        return SigningKey(row.kid, row.private_pem, row.public_jwk, row.created_at) if row else None

    async def known(self, kid: str) -> bool:
        found = await self.conn.execute(select(signing_keys.c.kid).where(signing_keys.c.kid == kid))
        return found.first() is not None

    async def retire_others(self, kid: str, at: datetime) -> None:
        await self.conn.execute(
            update(signing_keys)
            .where(signing_keys.c.kid != kid, signing_keys.c.retired_at.is_(None))
            .values(retired_at=at)
        )

    async def public_jwks(self, retired_after: datetime) -> list[str]:
        query = (
            select(signing_keys.c.public_jwk)
            .where(or_(signing_keys.c.retired_at.is_(None), signing_keys.c.retired_at > retired_after))
            .order_by(signing_keys.c.created_at, signing_keys.c.kid)
        )
        return list((await self.conn.execute(query)).scalars())
