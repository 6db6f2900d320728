"""Returns: goods coming back from a shipped order, booked in svc_stock once."""

from __future__ import annotations

import logging
import uuid

from kit import errors
from kit.context import system_work
from kit.errors import FieldViolation, InvalidArgument, NotFound, Violations
from kit.idempotency import Key
from kit.identity import Principal
from kit.uow import Units, revise
from svc_order import commands, domain
from svc_order.domain import Order, OrderReturn, PendingReturn, ReturnState, order_name, return_name
from svc_order.ports import OrderUnit
from svc_order.stock import Stock
from svc_order.usecases.orders import Orders

# Return ids derive from the tenant and request_id: a retry after a lost
# commit books the same return at svc_stock (a replay), never a second one.
_RETURNS = uuid.UUID("8d4c1f52-6a0e-4c8e-9a51-3f3b2a7d9e10")


log = logging.getLogger(__name__)


class Returns:
    def __init__(self, units: Units[OrderUnit], stock: Stock, orders: Orders) -> None:
        self.units = units
        self.stock = stock
        self.orders = orders
        self.now = units.now

    async def book_pending(self, limit: int = 100) -> int:
        """The booking loop's body: one more attempt at every PENDING return,
        as this service's system work in the return's tenant (svc_stock admits
        svc-order for ReturnStock). The request_id is the one of the first
        attempt, so svc_stock books each return once, however often asked."""
        async with self.units.read() as uow:
            pending = await uow.returns.pending(limit)
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
            await self._mark_booked(p, movements)
            booked += 1
        return booked

    async def _mark_booked(self, p: PendingReturn, movements: list[str]) -> None:
        async def work(uow: OrderUnit) -> None:
            await uow.returns.mark_booked(p.tenant_id, p.id, movements, self.now())

        await self.units.run(work)

    async def return_order(
        self, who: Principal, request_id: str, cmd: commands.ReturnOrder
    ) -> tuple[OrderReturn, Order]:
        once = self.units.once(Key(who.tenant_id, request_id, "ReturnOrder"), cmd, str)
        violations = Violations(list(cmd.unreadable))
        domain.require(cmd.reason is not None, "reason", violations)
        domain.check_lines([s for s, _ in cmd.lines], [q for _, q in cmd.lines], "lines", violations)
        if len(cmd.warehouse_id) > domain.MAX_ID:
            violations.add("warehouse", "no such warehouse")
        violations.raise_if_any()
        reason = cmd.reason
        assert reason is not None
        return_id = str(uuid.uuid5(_RETURNS, f"{who.tenant_id}/{request_id}"))

        async def work(uow: OrderUnit) -> str:
            now = self.now()
            order = await revise(
                await uow.orders.get(who.tenant_id, cmd.order_id, lock=True),
                lambda current: domain.taken_back(current, cmd.lines, now),
                uow.orders.save,
                kind="order",
                name=order_name(cmd.order_id),
                given_etag=cmd.etag,
            )
            booked = OrderReturn(
                return_id,
                order.id,
                cmd.lines,
                reason,
                cmd.note,
                cmd.warehouse_id or order.warehouse_id,
                domain.return_total(order, cmd.lines),
                ReturnState.PENDING,
                (),
                who.user_id,
                now,
                None,
            )
            await uow.returns.add(who.tenant_id, booked)
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
            await uow.returns.mark_booked(who.tenant_id, return_id, movements, self.now())
            return return_id

        await once(work)
        order = await self.orders.get(who, cmd.order_id)
        found = next((r for r in order.returns if r.id == return_id), None)
        if found is None:
            raise NotFound("return", f"{order_name(order.id)}/returns/{return_id}")
        return found, order
