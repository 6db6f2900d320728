"""Booking receipts in svc_stock, exactly once each.

A receipt is stored PENDING with the order's new quantities (see
`receiving`), then booked in svc_stock with a request_id derived from the
receipt id alone, and marked BOOKED. If the booking call fails, times out, or
this process dies in between, the receipt stays PENDING and the booking loop
(or a repeat of the request) asks svc_stock again with the same request_id:
svc_stock applies it at most once, so every receipt books exactly once.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from kit import errors
from kit.context import system_work
from kit.uow import Units
from svc_procure.domain.orders import Receipt, ReceiptState, receipt_request_id
from svc_procure.names import receipt_name
from svc_procure.ports import ProcureUnit
from svc_procure.stock import StockLedger

log = logging.getLogger(__name__)


class Booking:
    def __init__(self, units: Units[ProcureUnit], stock: StockLedger) -> None:
        self.units = units
        self.stock = stock

    async def book(self, receipt: Receipt) -> Receipt:
        """Books `receipt` in svc_stock; returns it BOOKED, or still PENDING if
        svc_stock could not be reached (the loop tries again)."""
        try:
            movements = await self.stock.receive(
                receipt_request_id(receipt.id),
                receipt.warehouse_id,
                receipt.lines,
                receipt_name(receipt.purchase_order_id, receipt.id),
            )
        except errors.ServiceError as exc:
            log.warning("receipt booking deferred", extra={"receipt": receipt.id, "error": str(exc)})
            return receipt
        now = self.units.now()

        async def mark(uow: ProcureUnit) -> bool:
            return await uow.receipts.mark_booked(receipt, movements, now)

        await self.units.run(mark)
        return replace(receipt, state=ReceiptState.BOOKED, stock_movements=tuple(movements), booked_at=now)

    async def book_pending(self, limit: int = 100) -> int:
        """The booking loop's body: one attempt at every PENDING receipt, as
        this service's own system work in the receipt's tenant (no user is
        behind a retry; svc_stock admits svc-procure for ReceiveStock)."""
        async with self.units.read() as uow:
            pending = await uow.receipts.pending(limit)
        booked = 0
        for receipt in pending:
            with system_work(receipt.tenant_id):
                done = await self.book(receipt)
            booked += done.state is ReceiptState.BOOKED
        return booked
