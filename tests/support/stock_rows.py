"""Rows written straight into a fresh svc_stock database, for use-case tests
that start from a warehouse with one stocked level."""

from __future__ import annotations

from datetime import UTC, datetime

from kit.db import Database
from svc_stock.store import tables


async def warehouse_with_level(db: Database, tenant: str, warehouse: str, sku: str, on_hand: int) -> None:
    now = datetime.now(UTC)
    async with db.transaction() as conn:
        await conn.execute(
            tables.warehouses.insert().values(
                tenant_id=tenant,
                id=warehouse,
                code="W1",
                display_name="W1",
                address="{}",
                status="active",
                created_at=now,
                updated_at=now,
                archived_at=None,
                version=1,
            )
        )
        await conn.execute(
            tables.levels.insert().values(
                tenant_id=tenant,
                warehouse_id=warehouse,
                sku=sku,
                on_hand=on_hand,
                reserved=0,
                reorder_point=0,
                reorder_quantity=0,
                last_count_at=None,
                updated_at=now,
                version=1,
            )
        )
