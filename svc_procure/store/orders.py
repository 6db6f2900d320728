"""Purchase orders and their receipts on SQL. An order's lines are JSON in
its row, and rows of their own written with it (store/order_lines.py); a
receipt's lines and movements are JSON in its own."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from svc_procure import ports
from svc_procure.domain.orders import (
    OrderLine,
    PurchaseOrder,
    PurchaseOrderState,
    Receipt,
    ReceiptState,
)
from svc_procure.store import order_lines
from svc_procure.store.tables import columns, purchase_orders, receipts


def _order(row: Any) -> PurchaseOrder:
    values = {name: getattr(row, name) for name in columns(purchase_orders)}
    return PurchaseOrder(
        **values
        | {
            "state": PurchaseOrderState(row.state),
            "lines": tuple(OrderLine(**line) for line in json.loads(row.lines)),
        }
    )


def _order_row(o: PurchaseOrder) -> dict[str, Any]:
    values = {name: getattr(o, name) for name in columns(purchase_orders)}
    return values | {
        "state": o.state.value,
        "lines": json.dumps([dataclasses.asdict(line) for line in o.lines]),
    }


def _receipt(row: Any) -> Receipt:
    values = {name: getattr(row, name) for name in columns(receipts)}
    return Receipt(
        **values
        | {
            "lines": tuple((sku, qty) for sku, qty in json.loads(row.lines)),
            "state": ReceiptState(row.state),
            "stock_movements": tuple(json.loads(row.stock_movements)),
        }
    )


def _receipt_row(r: Receipt) -> dict[str, Any]:
    values = {name: getattr(r, name) for name in columns(receipts)}
    return values | {
        "state": r.state.value,
        "lines": json.dumps([list(line) for line in r.lines]),
        "stock_movements": json.dumps(list(r.stock_movements)),
    }


class SqlPurchaseOrders(ports.PurchaseOrders):
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, order: PurchaseOrder) -> None:
        await self.conn.execute(insert(purchase_orders).values(**_order_row(order)))
        await order_lines.write(self.conn, order, new=True)

    async def get(self, tenant_id: str, order_id: str, *, lock: bool = False) -> PurchaseOrder | None:
        # FOR UPDATE on PostgreSQL; SQLite writers are serialized anyway.
        c = purchase_orders.c
        query = select(purchase_orders).where(c.tenant_id == tenant_id, c.id == order_id)
        row = (await self.conn.execute(query.with_for_update() if lock else query)).first()
        return None if row is None else _order(row)

    async def save(self, order: PurchaseOrder, expected_version: int) -> bool:
        c = purchase_orders.c
        result = await self.conn.execute(
            update(purchase_orders)
            .where(c.tenant_id == order.tenant_id, c.id == order.id, c.version == expected_version)
            .values(**_order_row(order))
        )
        if not result.rowcount:
            return False
        await order_lines.write(self.conn, order, new=False)
        return True

    async def coming(self, tenant_id: str, warehouse_id: str, skus: Sequence[str]) -> dict[str, ports.Coming]:
        return await order_lines.coming(self.conn, tenant_id, warehouse_id, skus)

    async def list(
        self, tenant_id: str, where: ports.OrderFilter, before: tuple[datetime, str] | None, limit: int
    ) -> list[PurchaseOrder]:
        c = purchase_orders.c
        query = select(purchase_orders).where(c.tenant_id == tenant_id)
        if where.states:
            query = query.where(c.state.in_(list(where.states)))
        if where.supplier_id:
            query = query.where(c.supplier_id == where.supplier_id)
        if where.warehouse_id:
            query = query.where(c.warehouse_id == where.warehouse_id)
        if where.sku:
            # The lines are JSON written by json.dumps: a line of this SKU contains
            # exactly this text (autoescape keeps "_" and "%" literal).
            line = json.dumps({"sku": where.sku})[1:-1] + ","
            query = query.where(c.lines.contains(line, autoescape=True))
        if where.start is not None:
            query = query.where(c.created_at >= where.start)
        if where.end is not None:
            query = query.where(c.created_at < where.end)
        if before is not None:
            query = query.where(tuple_(c.created_at, c.id) < tuple_(*before))
        rows = await self.conn.execute(query.order_by(c.created_at.desc(), c.id.desc()).limit(limit))
        return [_order(row) for row in rows]


class SqlReceipts(ports.Receipts):
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, receipt: Receipt) -> None:
        await self.conn.execute(insert(receipts).values(**_receipt_row(receipt)))

    async def get(self, tenant_id: str, order_id: str, receipt_id: str) -> Receipt | None:
        c = receipts.c
        query = select(receipts).where(
            c.tenant_id == tenant_id, c.purchase_order_id == order_id, c.id == receipt_id
        )
        row = (await self.conn.execute(query)).first()
        return None if row is None else _receipt(row)

    async def pending(self, limit: int) -> list[Receipt]:
        rows = await self.conn.execute(
            select(receipts)
            .where(receipts.c.state == ReceiptState.PENDING.value)
            .order_by(receipts.c.received_at)
            .limit(limit)
        )
        return [_receipt(row) for row in rows]

    async def mark_booked(self, receipt: Receipt, movements: Sequence[str], booked_at: datetime) -> bool:
        c = receipts.c
        result = await self.conn.execute(
            update(receipts)
            .where(
                c.tenant_id == receipt.tenant_id, c.id == receipt.id, c.state == ReceiptState.PENDING.value
            )
            .values(
                state=ReceiptState.BOOKED.value,
                stock_movements=json.dumps(list(movements)),
                booked_at=booked_at,
            )
        )
        return bool(result.rowcount)

    async def list(
        self, tenant_id: str, where: ports.ReceiptFilter, before: tuple[datetime, str] | None, limit: int
    ) -> list[Receipt]:
        c = receipts.c
        query = select(receipts).where(c.tenant_id == tenant_id)
        if where.order_id:
            query = query.where(c.purchase_order_id == where.order_id)
        if where.warehouse_id:
            query = query.where(c.warehouse_id == where.warehouse_id)
        if where.state:
            query = query.where(c.state == where.state)
        if where.start is not None:
            query = query.where(c.received_at >= where.start)
        if where.end is not None:
            query = query.where(c.received_at < where.end)
        if before is not None:
            query = query.where(tuple_(c.received_at, c.id) < tuple_(*before))
        rows = await self.conn.execute(query.order_by(c.received_at.desc(), c.id.desc()).limit(limit))
        return [_receipt(row) for row in rows]
