"""Receiving against a purchase order, and reading its receipts.

In one unit of work the receipt is stored PENDING together with the order's
new quantities and state; then it is booked in svc_stock (`booking`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from kit import idempotency, paging
from kit.errors import NotFound, Violations
from kit.identity import Principal
from kit.paging import Page
from kit.uow import Units
from svc_procure import commands
from svc_procure.domain import orders as domain
from svc_procure.domain.orders import PurchaseOrder, Receipt, ReceiptState
from svc_procure.names import receipt_name
from svc_procure.ports import ProcureUnit, ReceiptFilter
from svc_procure.usecases.booking import Booking
from svc_procure.usecases.lines import check_shape, more
from svc_procure.usecases.orders import revise_order


@dataclass(frozen=True)
class Received:
    receipt: Receipt
    order: PurchaseOrder


class Receiving:
    def __init__(self, units: Units[ProcureUnit], booking: Booking) -> None:
        self.units = units
        self.booking = booking

    async def receive(self, who: Principal, request_id: str, cmd: commands.ReceivePurchaseOrder) -> Received:
        violations = Violations()
        check_shape(cmd.lines, "lines", "quantity", violations, required=True)
        receiving = {line.sku: line.quantity for line in cmd.lines}

        async def work(uow: ProcureUnit) -> Received:
            current = await uow.orders.get(who.tenant_id, cmd.order_id, lock=True)
            found = more(violations)
            on_order = {line.sku for line in current.lines} if current is not None else None
            for i, line in enumerate(cmd.lines):
                if on_order is not None and line.sku and line.sku not in on_order:
                    found.add(f"lines[{i}].sku", "not a line of this purchase order")
            found.raise_if_any()
            now = self.units.now()
            order = await revise_order(
                uow, current, cmd.order_id, cmd.etag, lambda order: domain.received(order, receiving, now)
            )
            receipt = Receipt(
                id=str(uuid.uuid4()),
                tenant_id=who.tenant_id,
                purchase_order_id=order.id,
                warehouse_id=order.warehouse_id,
                lines=tuple((x.sku, x.quantity) for x in cmd.lines),
                state=ReceiptState.PENDING,
                delivery_note=cmd.delivery_note,
                note=cmd.note,
                receiver=who.user_id,
                stock_movements=(),
                received_at=now,
                booked_at=None,
            )
            await uow.receipts.add(receipt)
            return Received(receipt, order)

        key = idempotency.Key(who.tenant_id, request_id, "ReceivePurchaseOrder")
        first = await self.units.once(key, cmd, Received)(work)
        # A repeat gets the first result, but the receipt's state as it is now;
        # if still PENDING, this is one more (harmless) attempt to book it.
        receipt = await self.get_receipt(who, first.receipt.purchase_order_id, first.receipt.id)
        if receipt.state is ReceiptState.PENDING:
            receipt = await self.booking.book(receipt)
        return Received(receipt, first.order)

    async def get_receipt(self, who: Principal, order_id: str, receipt_id: str) -> Receipt:
        async with self.units.read() as uow:
            found = await uow.receipts.get(who.tenant_id, order_id, receipt_id)
        if found is None:
            raise NotFound("receipt", receipt_name(order_id, receipt_id))
        return found

    async def list_receipts(self, who: Principal, query: commands.ListQuery) -> Page[Receipt]:
        size = paging.page_size(query.page_size)
        where = ReceiptFilter(query.parent_id, query.warehouse_id, query.status, query.start, query.end)
        filters = paging.filters_digest(
            query.parent_id, query.warehouse_id, query.status, query.start, query.end
        )
        cursor = paging.cursor_for(query.page_token, filters, {"t": datetime, "i": str})
        before = (datetime.fromisoformat(cursor["t"]), cursor["i"]) if cursor else None
        async with self.units.read() as uow:
            found = await uow.receipts.list(who.tenant_id, where, before, size + 1)
        return paging.page_of(
            found, size, lambda r: {"t": r.received_at.isoformat(), "i": r.id, "f": filters}
        )
