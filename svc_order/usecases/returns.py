"""Returns: goods coming back from a shipped order, booked in svc_stock once."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from kit import errors, idempotency
from kit.context import system_work
from kit.db import Database
from kit.errors import FieldViolation, InvalidArgument, NotFound, Violations
from kit.identity import Principal
from svc_order import commands, domain, store
from svc_order.domain import RETURNABLE, Order, OrderReturn, ReturnState, order_name, return_name
from svc_order.stock import Stock
from svc_order.usecases.orders import Orders

# Return ids derive from the tenant and request_id: a retry after a lost
# commit books the same return at svc_stock (a replay), never a second one.
_RETURNS = uuid.UUID("8d4c1f52-6a0e-4c8e-9a51-3f3b2a7d9e10")


log = logging.getLogger(__name__)


class Returns:
    def __init__(self, db: Database, stock: Stock, orders: Orders, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.stock = stock
        self.orders = orders
        self.now = clock

    async def book_pending(self, limit: int = 100) -> int:
        """The booking loop's body: one more attempt at every PENDING return,
        as this service's system work in the return's tenant (svc_stock admits
        svc-order for ReturnStock). The request_id is the one of the first
        attempt, so svc_stock books each return once, however often asked."""
        async with self.db.snapshot() as conn:
            pending = await store.pending_returns(conn, limit)
        booked = 0
        for p in pending:
            try:
                with system_work(p.tenant_id):
                    movements = await self.stock.return_stock(
                        f"return:{p.id}:book", return_name(p.order_id, p.id), p.warehouse_id, p.lines, p.note
                    )
            except errors.ServiceError as exc:
                log.warning("return booking deferred", extra={"return": p.id, "error": str(exc)})
                continue
            async with self.db.transaction() as conn:
                await store.mark_return_booked(conn, p.tenant_id, p.id, movements, self.now())
            booked += 1
        return booked

    async def return_order(
        self, who: Principal, request_id: str, cmd: commands.ReturnOrder
    ) -> tuple[OrderReturn, Order]:
        idempotency.validate_request_id(request_id)
        violations = Violations()
        if cmd.reason is None:
            violations.add("reason", "required")
        domain.check_lines([s for s, _ in cmd.lines], [q for _, q in cmd.lines], "lines", violations)
        if len(cmd.warehouse_id) > domain.MAX_ID:
            violations.add("warehouse", "no such warehouse")
        violations.raise_if_any()
        return_id = str(uuid.uuid5(_RETURNS, f"{who.tenant_id}/{request_id}"))

        async def work(conn: AsyncConnection) -> str:
            order = await self.orders.locked(conn, who, cmd.order_id, cmd.etag)
            now = self.now()
            domain.require_status(order, now, RETURNABLE, "return")
            skus = {line.sku for line in order.lines}
            strangers = [
                FieldViolation(f"lines[{i}].sku", "not a line of the order")
                for i, (sku, _) in enumerate(cmd.lines)
                if sku not in skus
            ]
            if strangers:
                raise InvalidArgument(strangers)
            after, total, status = domain.returned(order, cmd.lines)
            assert cmd.reason is not None
            booked = OrderReturn(
                return_id,
                order.id,
                cmd.lines,
                cmd.reason,
                cmd.note,
                cmd.warehouse_id or order.warehouse_id,
                total,
                ReturnState.PENDING,
                (),
                who.user_id,
                now,
                None,
            )
            await store.insert_return(conn, who.tenant_id, booked)
            changed = domain.with_return(order, after, status, now)
            await store.update_order(conn, changed, lines_changed=True)
            # Booked inside the transaction: a refusal (unknown or archived
            # warehouse) records nothing; an unreachable svc_stock leaves the
            # return PENDING; a lost commit is retried with the same ids.
            try:
                movements = await self.stock.return_stock(
                    f"return:{return_id}:book",
                    return_name(order.id, return_id),
                    booked.warehouse_id,
                    cmd.lines,
                    cmd.note,
                )
            except errors.Unavailable:
                return return_id
            except InvalidArgument as refused:
                raise InvalidArgument(
                    [FieldViolation("warehouse", refused.message)], reason=refused.reason
                ) from refused
            await store.mark_return_booked(conn, who.tenant_id, return_id, movements, self.now())
            return return_id

        key = idempotency.Key(who.tenant_id, request_id, "ReturnOrder")
        await idempotency.once(self.db, store.idempotency_records, key, cmd, str, work)
        order = await self.orders.get(who, cmd.order_id)
        found = next((r for r in order.returns if r.id == return_id), None)
        if found is None:
            raise NotFound("return", f"{order_name(order.id)}/returns/{return_id}")
        return found, order
