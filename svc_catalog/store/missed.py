"""Missed cache invalidations on SQL (kit.cache.MissedLog)."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from kit.cache import Missed
from svc_catalog import ports
from svc_catalog.store.tables import missed_invalidations as missed


class SqlMissedInvalidations(ports.MissedInvalidations):
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, keys: Collection[str], at: datetime) -> None:
        await self.conn.execute(insert(missed).values(keys=json.dumps(sorted(keys)), created_at=at))

    async def since(self, moment: datetime) -> list[Missed]:
        query = select(missed).where(missed.c.created_at >= moment).order_by(missed.c.id)
        rows = (await self.conn.execute(query)).all()
        return [Missed(row.id, tuple(json.loads(row.keys)), row.created_at) for row in rows]

    async def forget(self, before: datetime) -> None:
        await self.conn.execute(delete(missed).where(missed.c.created_at < before))
