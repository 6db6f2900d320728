"""Placing an order against svc_stock without ever holding stock for nothing.

The protocol: reserve with a short lease, store the order, then extend the
lease to the order's hold (or commit it at once, for imported sales). A
failure before the order is stored releases the reservation; a failure after
it removes the order again and releases; and if this process dies in between,
the short lease lapses and svc_stock's sweeper frees the stock. Every call to
svc_stock carries a request_id derived from the order and the step, so a retry
replays instead of taking effect twice.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

from kit import errors
from kit.idempotency import Key
from kit.uow import Units
from svc_order.domain import Order, order_name
from svc_order.ports import OrderUnit
from svc_order.stock import Stock

log = logging.getLogger(__name__)

T = TypeVar("T")


def step_id(order_id: str, step: str) -> str:
    """The request_id of one step of an order at svc_stock."""
    return f"order:{order_id}:{step}"


class Placement:
    def __init__(
        self,
        units: Units[OrderUnit],
        stock: Stock,
        *,
        lease: timedelta,
        after_reserve: Callable[[], None] = lambda: None,
        after_store: Callable[[], None] = lambda: None,
    ) -> None:
        self.units = units
        self.stock = stock
        self.now = units.now
        self.lease = lease
        # Fault-injection points for tests of the failure paths; no-ops otherwise.
        self.after_reserve = after_reserve
        self.after_store = after_store

    async def place(
        self,
        draft: Order,
        save: Callable[[Order], Awaitable[str]],
        *,
        key: Key | None,
        ship_at: datetime | None = None,
    ) -> str:
        """Reserve, store (via `save`, which returns the stored order's id) and
        confirm: extend to the hold, or commit at `ship_at` for a sale.
        Returns the id of the stored order (an earlier one for a replay).
        `key` is the request whose result `save` recorded, forgotten again if
        the order has to be removed."""
        lines = [(line.sku, line.quantity) for line in draft.lines]
        reservation_id = await self.stock.reserve(
            step_id(draft.id, "reserve"), order_name(draft.id), draft.warehouse_id, lines, self.lease
        )
        self.after_reserve()
        hold = draft.hold_expire_at if ship_at is None else self.now() + self.lease
        reserved = dataclasses.replace(draft, reservation_id=reservation_id, hold_expire_at=hold)
        try:
            stored_id = await save(reserved)
        except BaseException:
            await self.release(draft.id, reservation_id)
            raise
        if stored_id != draft.id:  # a concurrent duplicate of this request stored first
            await self.release(draft.id, reservation_id)
            return stored_id
        self.after_store()
        try:
            if ship_at is None:
                await self.stock.extend(step_id(draft.id, "extend"), reservation_id, draft.hold_expire_at)
            else:
                await self.stock.commit(step_id(draft.id, "commit"), reservation_id, ship_at)
        except errors.ServiceError:
            await self.forget(draft, key)
            await self.release(draft.id, reservation_id)
            raise
        return draft.id

    async def forget(self, order: Order, key: Key | None) -> None:
        """Remove an order whose hold was never confirmed (still at its first
        version), and free its request id, so a retry starts afresh."""

        async def work(uow: OrderUnit) -> None:
            await uow.orders.remove(order.tenant_id, order.id)
            if key is not None:
                await uow.claims.forget(key)

        await self.units.run(work)

    async def release(self, order_id: str, reservation_id: str) -> None:
        """Compensation: best effort, since the short lease frees the stock anyway."""
        try:
            await self.stock.release(step_id(order_id, "release"), reservation_id)
        except errors.ServiceError:
            log.warning(
                "could not release reservation %s of %s; its lease will lapse", reservation_id, order_id
            )
