"""Tenants on SQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from svc_user import ports
from svc_user.domain import Tenant
from svc_user.store.tables import tenants


def _tenant(row: Any) -> Tenant:
    return Tenant(
        id=row.id,
        slug=row.slug,
        display_name=row.display_name,
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
    )


class SqlTenants(ports.Tenants):
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, tenant: Tenant) -> None:
        await self.conn.execute(
            insert(tenants).values(
                id=tenant.id,
                slug=tenant.slug,
                display_name=tenant.display_name,
                created_at=tenant.created_at,
                updated_at=tenant.updated_at,
                version=tenant.version,
            )
        )

    async def get(self, tenant_id: str) -> Tenant | None:
        row = (await self.conn.execute(select(tenants).where(tenants.c.id == tenant_id))).first()
        return _tenant(row) if row else None

    async def by_slug(self, slug: str) -> Tenant | None:
        row = (await self.conn.execute(select(tenants).where(tenants.c.slug == slug))).first()
        return _tenant(row) if row else None

    async def save(self, tenant: Tenant, expected_version: int) -> bool:
        result = await self.conn.execute(
            update(tenants)
            .where(tenants.c.id == tenant.id, tenants.c.version == expected_version)
            .values(display_name=tenant.display_name, updated_at=tenant.updated_at, version=tenant.version)
        )
        return result.rowcount == 1
