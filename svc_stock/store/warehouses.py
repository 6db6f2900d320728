"""Warehouses on SQL."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from svc_stock import ports
from svc_stock.domain import Address, Warehouse, WarehouseStatus
from svc_stock.store.tables import levels, warehouses


def _warehouse(row: Any) -> Warehouse:
    raw = json.loads(row.address)
    return Warehouse(
        id=row.id,
        tenant_id=row.tenant_id,
        code=row.code,
        display_name=row.display_name,
        address=Address(
            tuple(raw.get("lines", ())),
            raw.get("locality", ""),
            raw.get("administrative_area", ""),
            raw.get("postal_code", ""),
            raw.get("region_code", ""),
        ),
        status=WarehouseStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        archived_at=row.archived_at,
        version=row.version,
    )


def _address(address: Address) -> str:
    return json.dumps(
        {
            "lines": list(address.lines),
            "locality": address.locality,
            "administrative_area": address.administrative_area,
            "postal_code": address.postal_code,
            "region_code": address.region_code,
        }
    )


class SqlWarehouses(ports.Warehouses):
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, warehouse: Warehouse) -> None:
        w = warehouse
        await self.conn.execute(
            insert(warehouses).values(
                tenant_id=w.tenant_id,
                id=w.id,
                code=w.code,
                display_name=w.display_name,
                address=_address(w.address),
                status=w.status.value,
                created_at=w.created_at,
                updated_at=w.updated_at,
                archived_at=w.archived_at,
                version=w.version,
            )
        )

    async def get(self, tenant_id: str, warehouse_id: str) -> Warehouse | None:
        query = select(warehouses).where(warehouses.c.tenant_id == tenant_id, warehouses.c.id == warehouse_id)
        row = (await self.conn.execute(query)).first()
        return _warehouse(row) if row else None

    async def by_id(self, tenant_id: str, ids: Sequence[str]) -> dict[str, Warehouse]:
        query = select(warehouses).where(warehouses.c.tenant_id == tenant_id, warehouses.c.id.in_(set(ids)))
        return {row.id: _warehouse(row) for row in (await self.conn.execute(query)).all()}

    async def code_taken(self, tenant_id: str, code: str) -> bool:
        query = select(warehouses.c.id).where(warehouses.c.tenant_id == tenant_id, warehouses.c.code == code)
        return (await self.conn.execute(query)).first() is not None

    async def find(
        self, tenant_id: str, *, after_code: str, limit: int, status: WarehouseStatus | None, code: str
    ) -> list[Warehouse]:
        query = select(warehouses).where(warehouses.c.tenant_id == tenant_id, warehouses.c.code > after_code)
        if status is not None:
            query = query.where(warehouses.c.status == status.value)
        if code:
            query = query.where(warehouses.c.code == code)
        rows = (await self.conn.execute(query.order_by(warehouses.c.code).limit(limit))).all()
        return [_warehouse(r) for r in rows]

    async def save(self, warehouse: Warehouse, expected_version: int) -> bool:
        w = warehouse
        result = await self.conn.execute(
            update(warehouses)
            .where(
                warehouses.c.tenant_id == w.tenant_id,
                warehouses.c.id == w.id,
                warehouses.c.version == expected_version,
            )
            .values(
                display_name=w.display_name,
                address=_address(w.address),
                status=w.status.value,
                updated_at=w.updated_at,
                archived_at=w.archived_at,
                version=w.version,
            )
        )
        return result.rowcount == 1

    async def holds_anything(self, tenant_id: str, warehouse_id: str) -> bool:
        query = select(levels.c.sku).where(
            levels.c.tenant_id == tenant_id,
            levels.c.warehouse_id == warehouse_id,
            (levels.c.on_hand != 0) | (levels.c.reserved != 0),
        )
        return (await self.conn.execute(query.limit(1))).first() is not None
