"""Suppliers and their items on SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, insert, select, tuple_, update
from sqlalchemy.engine import Dialect, Result
from sqlalchemy.ext.asyncio import AsyncConnection

from kit.where import one_of
from svc_procure import ports
from svc_procure.domain.suppliers import Status, Supplier, SupplierItem
from svc_procure.store.sql import rows_as_dicts
from svc_procure.store.tables import columns, supplier_items, suppliers


def _supplier(row: Any) -> Supplier:
    return Supplier(
        **{name: getattr(row, name) for name in columns(suppliers)} | {"status": Status(row.status)}
    )


def _item(row: Any) -> SupplierItem:
    values = {name: getattr(row, name) for name in columns(supplier_items)}
    return SupplierItem(**values | {"status": Status(row.status)})


def _items(result: Result[Any]) -> list[SupplierItem]:
    """The items of a select(supplier_items), whose columns are an item's
    fields: a replenishment proposal reads tens of thousands, so the column
    names are looked up once, not per row and field."""
    out = []
    for values in rows_as_dicts(result):
        values["status"] = Status(values["status"])
        out.append(SupplierItem(**values))
    return out


def _row(entity: Supplier | SupplierItem, table: Any) -> dict[str, Any]:
    return {name: getattr(entity, name) for name in columns(table)} | {"status": entity.status.value}


def active_items_query(
    tenant_id: str, skus: Sequence[str], supplier_id: str | None, dialect: Dialect
) -> Select[Any]:
    """Active items of these SKUs: served by ix_supplier_items_tenant_id_sku."""
    c = supplier_items.c
    query = select(supplier_items).where(
        c.tenant_id == tenant_id, one_of(c.sku, skus, dialect), c.status == Status.ACTIVE.value
    )
    return query if supplier_id is None else query.where(c.supplier_id == supplier_id)


class SqlSuppliers(ports.Suppliers):
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, supplier: Supplier) -> None:
        await self.conn.execute(insert(suppliers).values(**_row(supplier, suppliers)))

    async def get(self, tenant_id: str, supplier_id: str) -> Supplier | None:
        query = select(suppliers).where(suppliers.c.tenant_id == tenant_id, suppliers.c.id == supplier_id)
        row = (await self.conn.execute(query)).first()
        return None if row is None else _supplier(row)

    async def save(self, supplier: Supplier, expected_version: int) -> bool:
        result = await self.conn.execute(
            update(suppliers)
            .where(
                suppliers.c.tenant_id == supplier.tenant_id,
                suppliers.c.id == supplier.id,
                suppliers.c.version == expected_version,
            )
            .values(**_row(supplier, suppliers))
        )
        return bool(result.rowcount)

    async def active(self, tenant_id: str) -> dict[str, Supplier]:
        rows = await self.conn.execute(
            select(suppliers).where(
                suppliers.c.tenant_id == tenant_id, suppliers.c.status == Status.ACTIVE.value
            )
        )
        return {row.id: _supplier(row) for row in rows}

    async def list(self, tenant_id: str, status: str, after: tuple[str, str] | None) -> list[Supplier]:
        query = select(suppliers).where(suppliers.c.tenant_id == tenant_id)
        if status:
            query = query.where(suppliers.c.status == status)
        if after is not None:
            query = query.where(tuple_(suppliers.c.display_name, suppliers.c.id) > tuple_(*after))
        rows = await self.conn.execute(query.order_by(suppliers.c.display_name, suppliers.c.id))
        return [_supplier(row) for row in rows]


class SqlSupplierItems(ports.SupplierItems):
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, item: SupplierItem) -> bool:
        c = supplier_items.c
        taken = await self.conn.execute(
            select(c.id).where(
                c.tenant_id == item.tenant_id,
                c.supplier_id == item.supplier_id,
                (c.sku == item.sku) | (c.supplier_sku == item.supplier_sku),
            )
        )
        if taken.first() is not None:
            return False
        await self.conn.execute(insert(supplier_items).values(**_row(item, supplier_items)))
        return True

    async def get(self, tenant_id: str, supplier_id: str, item_id: str) -> SupplierItem | None:
        c = supplier_items.c
        query = select(supplier_items).where(
            c.tenant_id == tenant_id, c.supplier_id == supplier_id, c.id == item_id
        )
        row = (await self.conn.execute(query)).first()
        return None if row is None else _item(row)

    async def save(self, item: SupplierItem, expected_version: int) -> bool:
        c = supplier_items.c
        result = await self.conn.execute(
            update(supplier_items)
            .where(c.tenant_id == item.tenant_id, c.id == item.id, c.version == expected_version)
            .values(**_row(item, supplier_items))
        )
        return bool(result.rowcount)

    async def supplier_sku_taken(self, item: SupplierItem) -> bool:
        c = supplier_items.c
        row = await self.conn.execute(
            select(c.id).where(
                c.tenant_id == item.tenant_id,
                c.supplier_id == item.supplier_id,
                c.supplier_sku == item.supplier_sku,
                c.id != item.id,
            )
        )
        return row.first() is not None

    async def active(
        self, tenant_id: str, skus: Sequence[str], supplier_id: str | None = None
    ) -> list[SupplierItem]:
        query = active_items_query(tenant_id, skus, supplier_id, self.conn.dialect)
        return _items(await self.conn.execute(query))

    async def list(
        self,
        tenant_id: str,
        supplier_id: str,
        sku: str,
        status: str,
        after: tuple[str, str, str] | None,
        limit: int,
    ) -> list[SupplierItem]:
        c = supplier_items.c
        query = select(supplier_items).where(c.tenant_id == tenant_id)
        if supplier_id:
            query = query.where(c.supplier_id == supplier_id)
        if sku:
            query = query.where(c.sku == sku)
        if status:
            query = query.where(c.status == status)
        if after is not None:
            query = query.where(tuple_(c.supplier_id, c.sku, c.id) > tuple_(*after))
        rows = await self.conn.execute(query.order_by(c.supplier_id, c.sku, c.id).limit(limit))
        return [_item(row) for row in rows]
