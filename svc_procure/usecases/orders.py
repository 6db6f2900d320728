"""Purchase orders over their lifecycle: create, read, update, submit, cancel,
close, list. Receiving is in `receiving`, drafts from a proposal in `drafts`."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from clients.catalog import Catalog
from kit import idempotency, paging
from kit.errors import NotFound, PermissionDenied, Violations
from kit.identity import Principal, Role
from kit.paging import Page
from kit.uow import Units, revise
from svc_procure import commands
from svc_procure.domain import orders as domain
from svc_procure.domain.orders import PurchaseOrder, PurchaseOrderState
from svc_procure.domain.suppliers import Supplier, SupplierItem
from svc_procure.names import order_name
from svc_procure.ports import OrderFilter, ProcureUnit
from svc_procure.stock import StockLedger
from svc_procure.usecases.lines import (
    check_shape,
    check_skus,
    check_warehouse,
    more,
    priced_items,
    refuse_archived_warehouse,
)

MANAGERS = frozenset({Role.MANAGER})


async def revise_order(
    uow: ProcureUnit,
    current: PurchaseOrder | None,
    order_id: str,
    given_etag: str,
    change: Callable[[PurchaseOrder], PurchaseOrder],
) -> PurchaseOrder:
    """`revise` of a purchase order read with `lock=True` in `uow`."""
    name = order_name(order_id)
    return await revise(
        current, change, uow.orders.save, kind="purchase order", name=name, given_etag=given_etag
    )


class Orders:
    def __init__(self, units: Units[ProcureUnit], stock: StockLedger, catalog: Catalog) -> None:
        self.units = units
        self.stock = stock
        self.catalog = catalog

    async def create(
        self, who: Principal, request_id: str, cmd: commands.CreatePurchaseOrder
    ) -> PurchaseOrder:
        violations = Violations()
        check_shape(cmd.lines, "purchase_order.lines", "quantity_ordered", violations)
        await check_skus(self.catalog, cmd.lines, "purchase_order.lines", violations)
        active = await check_warehouse(self.stock, cmd.warehouse_id, "purchase_order.warehouse", violations)
        lines = [(n.sku, n.quantity) for n in cmd.lines]

        async def work(uow: ProcureUnit) -> PurchaseOrder:
            supplier = await uow.suppliers.get(who.tenant_id, cmd.supplier_id)
            found = more(violations)
            if supplier is None:
                found.add("purchase_order.supplier", "no such supplier")
            found.raise_if_any()
            refuse_archived_warehouse(active)
            supplier = domain.refuse_archived(supplier)
            items = await priced_items(uow, who.tenant_id, supplier.id, lines)
            order = domain.draft(
                str(uuid.uuid4()),
                who.user_id,
                supplier,
                cmd.warehouse_id,
                domain.order_lines(lines, items),
                self.units.now(),
                cmd.note,
                cmd.supplier_reference,
            )
            await uow.orders.add(order)
            return order

        key = idempotency.Key(who.tenant_id, request_id, "CreatePurchaseOrder")
        return await self.units.once(key, cmd, PurchaseOrder)(work)

    async def get(self, who: Principal, order_id: str) -> PurchaseOrder:
        async with self.units.read() as uow:
            found = await uow.orders.get(who.tenant_id, order_id)
        if found is None:
            raise NotFound("purchase order", order_name(order_id))
        return found

    async def update(
        self, who: Principal, request_id: str, cmd: commands.UpdatePurchaseOrder
    ) -> PurchaseOrder:
        paths = frozenset(cmd.paths)
        violations = Violations()
        if "lines" in paths:
            check_shape(cmd.lines, "purchase_order.lines", "quantity_ordered", violations)
            await check_skus(self.catalog, cmd.lines, "purchase_order.lines", violations)
        active = True
        if "warehouse" in paths:
            active = await check_warehouse(
                self.stock, cmd.warehouse_id, "purchase_order.warehouse", violations
            )
        violations.raise_if_any()
        refuse_archived_warehouse(active)
        lines = [(n.sku, n.quantity) for n in cmd.lines]

        async def work(uow: ProcureUnit) -> PurchaseOrder:
            current = await uow.orders.get(who.tenant_id, cmd.order_id, lock=True)
            items = (
                await uow.items.active(who.tenant_id, [sku for sku, _ in lines], current.supplier_id)
                if current is not None and "lines" in paths
                else []
            )
            now = self.units.now()

            def change(order: PurchaseOrder) -> PurchaseOrder:
                domain.check_updatable(order, paths)
                new_lines = order.lines
                if "lines" in paths:
                    domain.check_lines(lines, domain.terms_of(items))
                    new_lines = domain.order_lines(lines, {i.sku: i for i in items})
                return replace(
                    order,
                    warehouse_id=cmd.warehouse_id if "warehouse" in paths else order.warehouse_id,
                    lines=new_lines,
                    expected_delivery_at=cmd.expected_delivery_at
                    if "expected_delivery_time" in paths
                    else order.expected_delivery_at,
                    supplier_reference=cmd.supplier_reference
                    if "supplier_reference" in paths
                    else order.supplier_reference,
                    note=cmd.note if "note" in paths else order.note,
                    updated_at=now,
                )

            return await revise_order(uow, current, cmd.order_id, cmd.etag, change)

        key = idempotency.Key(who.tenant_id, request_id, "UpdatePurchaseOrder")
        return await self.units.once(key, cmd, PurchaseOrder)(work)

    async def submit(self, who: Principal, request_id: str, cmd: commands.Transition) -> PurchaseOrder:
        current = await self.get(who, cmd.order_id)
        if current.state is PurchaseOrderState.DRAFT:
            violations = Violations()
            active = await check_warehouse(
                self.stock, current.warehouse_id, "purchase_order.warehouse", violations
            )
            violations.raise_if_any()
            refuse_archived_warehouse(active)

        async def work(uow: ProcureUnit) -> PurchaseOrder:
            current = await uow.orders.get(who.tenant_id, cmd.order_id, lock=True)
            supplier: Supplier | None = None
            items: list[SupplierItem] = []
            if current is not None:
                supplier = await uow.suppliers.get(who.tenant_id, current.supplier_id)
                skus = [line.sku for line in current.lines]
                items = await uow.items.active(who.tenant_id, skus, current.supplier_id)
            now = self.units.now()
            return await revise_order(
                uow,
                current,
                cmd.order_id,
                cmd.etag,
                lambda order: domain.submitted(order, supplier, items, now),
            )

        key = idempotency.Key(who.tenant_id, request_id, "SubmitPurchaseOrder")
        return await self.units.once(key, cmd, PurchaseOrder)(work)

    async def cancel(self, who: Principal, request_id: str, cmd: commands.Transition) -> PurchaseOrder:
        def change(order: PurchaseOrder, now: datetime) -> PurchaseOrder:
            cancelled = domain.ended(order, PurchaseOrderState.CANCELLED, cmd.reason, now)
            # The contract's qualified role: buyers may cancel only what was never sent.
            if order.state is not PurchaseOrderState.DRAFT and not who.holds_any(MANAGERS):
                raise PermissionDenied(
                    "a buyer may cancel DRAFT purchase orders only", reason="ROLE_REQUIRED"
                )
            return cancelled

        key = idempotency.Key(who.tenant_id, request_id, "CancelPurchaseOrder")
        return await self._end(who, key, cmd, change)

    async def close(self, who: Principal, request_id: str, cmd: commands.Transition) -> PurchaseOrder:
        def change(order: PurchaseOrder, now: datetime) -> PurchaseOrder:
            return domain.ended(order, PurchaseOrderState.CLOSED, cmd.reason, now)

        key = idempotency.Key(who.tenant_id, request_id, "ClosePurchaseOrder")
        return await self._end(who, key, cmd, change)

    async def list_orders(self, who: Principal, query: commands.ListQuery) -> Page[PurchaseOrder]:
        size = paging.page_size(query.page_size)
        where = OrderFilter(
            query.states, query.parent_id, query.warehouse_id, query.sku, query.start, query.end
        )
        filters = paging.filters_digest(
            sorted(set(query.states)), query.parent_id, query.warehouse_id, query.sku, query.start, query.end
        )
        cursor = paging.cursor_for(query.page_token, filters, {"t": datetime, "i": str})
        before = (datetime.fromisoformat(cursor["t"]), cursor["i"]) if cursor else None
        async with self.units.read() as uow:
            found = await uow.orders.list(who.tenant_id, where, before, size + 1)
        return paging.page_of(found, size, lambda o: {"t": o.created_at.isoformat(), "i": o.id, "f": filters})

    async def _end(
        self,
        who: Principal,
        key: idempotency.Key,
        cmd: commands.Transition,
        change: Callable[[PurchaseOrder, datetime], PurchaseOrder],
    ) -> PurchaseOrder:
        async def work(uow: ProcureUnit) -> PurchaseOrder:
            now = self.units.now()
            return await revise_order(
                uow,
                await uow.orders.get(who.tenant_id, cmd.order_id, lock=True),
                cmd.order_id,
                cmd.etag,
                lambda order: change(order, now),
            )

        return await self.units.once(key, cmd, PurchaseOrder)(work)
