"""Sales sync: a channel's batch of sales booked as SHIPPED orders, each sale
on its own, idempotent per (channel, external_id)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence

from clients.catalog import not_in_catalog
from kit import errors
from kit.errors import Violations
from kit.idempotency import Key
from kit.identity import Principal
from kit.uow import Units, revise
from svc_order import commands, domain
from svc_order.catalog import Catalog, Lookup
from svc_order.domain import (
    LineProblem,
    Order,
    Rejection,
    SaleOutcome,
    SaleRejected,
    SaleResult,
    Shipment,
    order_name,
)
from svc_order.ports import OrderUnit
from svc_order.usecases.placing import Placement, step_id

_STOCK_REASONS = {
    "INSUFFICIENT_STOCK": Rejection.INSUFFICIENT_STOCK,
    "UNKNOWN_WAREHOUSE": Rejection.UNKNOWN_WAREHOUSE,
    "WAREHOUSE_ARCHIVED": Rejection.WAREHOUSE_ARCHIVED,
}
_BATCH = 500  # SKUs per catalog lookup
# An imported order still in these states was interrupted before SHIPPED.
_UNFINISHED = (domain.OrderStatus.RESERVED, domain.OrderStatus.EXPIRED)


class Sales:
    def __init__(self, units: Units[OrderUnit], catalog: Catalog, placement: Placement) -> None:
        self.units = units
        self.catalog = catalog
        self.placement = placement
        self.now = units.now

    async def import_sales(
        self, who: Principal, request_id: str, cmd: commands.ImportSales
    ) -> list[SaleResult]:
        once = self.units.once(Key(who.tenant_id, request_id, "ImportSales"), cmd, list[SaleResult])
        violations = Violations(list(cmd.unreadable))
        domain.require(cmd.channel is not None, "channel", violations)
        if not cmd.sales or len(cmd.sales) > domain.MAX_SALES:
            violations.add("sales", f"1 to {domain.MAX_SALES} sales")
        seen: set[str] = set()
        for i, sale in enumerate(cmd.sales):
            if not sale.external_id.strip():
                violations.add(f"sales[{i}].external_id", "required")
            elif len(sale.external_id) > domain.MAX_REFERENCE:
                violations.add(f"sales[{i}].external_id", f"at most {domain.MAX_REFERENCE} characters")
            elif sale.external_id in seen:
                violations.add(f"sales[{i}].external_id", "occurs twice in the batch")
            seen.add(sale.external_id)
        violations.raise_if_any()
        assert cmd.channel is not None
        previous = await once.earlier()
        if previous is not None:
            return previous
        lookup = await self._variants(cmd.sales)
        # One after another: each sale's reservation, order and shipment are
        # its own; an unreachable svc_stock stops the batch (UNAVAILABLE), and
        # a retry reports what this attempt booked as DUPLICATE.
        results = [await self._one(who, cmd.channel, sale, lookup) for sale in cmd.sales]

        async def keep(uow: OrderUnit) -> list[SaleResult]:
            return results

        # A complete batch is remembered, so a repeat returns this answer.
        return await once(keep)

    async def _variants(self, sales: Sequence[commands.Sale]) -> Lookup:
        skus = list(dict.fromkeys(line.sku for sale in sales for line in sale.lines if line.sku))
        variants: dict[str, domain.CatalogVariant] = {}
        unknown: list[str] = []
        for start in range(0, len(skus), _BATCH):
            part = await self.catalog.variants(skus[start : start + _BATCH])
            variants.update(part.variants)
            unknown.extend(part.unknown)
        return Lookup(variants, tuple(unknown))

    async def _one(
        self, who: Principal, channel: domain.SalesChannel, sale: commands.Sale, lookup: Lookup
    ) -> SaleResult:
        async with self.units.read() as uow:
            existing = await uow.orders.by_external_id(who.tenant_id, channel, sale.external_id)
        if existing is not None:
            if not (existing.imported and existing.status in _UNFINISHED):
                return SaleResult(sale.external_id, SaleOutcome.DUPLICATE, existing.id)
            if await self._resume(existing):
                return SaleResult(sale.external_id, SaleOutcome.BOOKED, existing.id)
        try:
            draft = self._draft(who, channel, sale, lookup)
            order_id = await self._book(draft, sale)
        except SaleRejected as rejected:
            return SaleResult(
                sale.external_id,
                SaleOutcome.REJECTED,
                rejection=rejected.reason,
                message=rejected.message,
                problems=rejected.problems,
            )
        outcome = SaleOutcome.BOOKED if order_id == draft.id else SaleOutcome.DUPLICATE
        return SaleResult(sale.external_id, outcome, order_id)

    def _draft(
        self, who: Principal, channel: domain.SalesChannel, sale: commands.Sale, lookup: Lookup
    ) -> Order:
        now = self.now()
        violations = Violations()
        domain.check_lines([x.sku for x in sale.lines], [x.quantity for x in sale.lines], "lines", violations)
        if not sale.warehouse_id:
            violations.add("warehouse", "required")
        domain.check_length(sale.customer, domain.MAX_REFERENCE, "customer", violations)
        if sale.sold_at is None or sale.sold_at > now:
            violations.add("sold_time", "required, and not in the future")
        unknown = [
            LineProblem(i, x.sku, Rejection.UNKNOWN_SKU, not_in_catalog(x.sku))
            for i, x in enumerate(sale.lines)
            if x.sku.strip() and x.sku not in lookup.variants
        ]
        if violations.items:  # the unknown SKUs named too, so one answer tells all
            message = "; ".join(f"{v.field}: {v.description}" for v in violations.items)
            raise SaleRejected(Rejection.INVALID_SALE, message, unknown)
        assert sale.sold_at is not None
        if unknown:
            raise SaleRejected(Rejection.UNKNOWN_SKU, "unknown SKUs", unknown)
        try:
            lines = domain.price_lines(
                [x.sku for x in sale.lines],
                [x.quantity for x in sale.lines],
                [x.unit_price for x in sale.lines],
                lookup.variants,
                "lines",
            )
        except errors.FailedPrecondition as refused:
            reason = (
                Rejection.ARCHIVED_SKU if refused.reason == "SKU_ARCHIVED" else Rejection.MIXED_CURRENCIES
            )
            index = {x.sku: i for i, x in enumerate(sale.lines)}
            problems = [
                LineProblem(index[v.subject], v.subject, reason, v.description) for v in refused.violations
            ]
            raise SaleRejected(reason, refused.message, problems) from refused
        except errors.InvalidArgument as bad:
            raise SaleRejected(Rejection.INVALID_SALE, bad.message) from bad
        return domain.new_order(
            str(uuid.uuid4()),
            who,
            channel,
            sale.external_id,
            sale.customer,
            sale.warehouse_id,
            lines,
            sale.note,
            sale.sold_at,
            now,
            now,
            imported=True,
        )

    async def _resume(self, stored: Order) -> bool:
        """Finishes an import interrupted after its order was stored: commits
        the reservation (a replay if the commit had happened) and marks the
        order SHIPPED. If the lease lapsed first, the order is removed so the
        sale is booked afresh; returns whether it was finished."""
        try:
            await self.placement.stock.commit(
                step_id(stored.id, "commit"), stored.reservation_id, stored.order_time
            )
        except errors.FailedPrecondition as refused:
            if refused.reason != "RESERVATION_NOT_ACTIVE":
                raise
            await self.placement.forget(stored, None)
            return False
        await self._mark_shipped(stored)
        return True

    async def _mark_shipped(self, draft: Order) -> None:
        shipment = Shipment("", "", draft.order_time)

        async def work(uow: OrderUnit) -> None:
            await revise(
                await uow.orders.get(draft.tenant_id, draft.id, lock=True),
                lambda stored: domain.shipped(stored, shipment, self.now()),
                uow.orders.save,
                kind="order",
                name=order_name(draft.id),
                given_etag="",
            )

        await self.units.run(work)

    async def _book(self, draft: Order, sale: commands.Sale) -> str:
        async def save(order: Order) -> str:
            async def work(uow: OrderUnit) -> str:
                existing = await uow.orders.by_external_id(order.tenant_id, order.channel, order.external_id)
                if existing is not None:
                    return existing.id
                number = await uow.orders.next_number(order.tenant_id)
                await uow.orders.add(dataclasses.replace(order, number=number))
                return order.id

            return await self.units.run(work)

        try:
            order_id = await self.placement.place(draft, save, key=None, ship_at=draft.order_time)
        except (errors.FailedPrecondition, errors.InvalidArgument) as refused:
            reason = _STOCK_REASONS.get(refused.reason)
            if reason is None:
                raise
            raise SaleRejected(reason, refused.message, self._problems(sale, reason, refused)) from refused
        if order_id == draft.id:
            await self._mark_shipped(draft)
        return order_id

    @staticmethod
    def _problems(sale: commands.Sale, reason: Rejection, refused: errors.ServiceError) -> list[LineProblem]:
        if not isinstance(refused, errors.FailedPrecondition) or reason is not Rejection.INSUFFICIENT_STOCK:
            return []
        index = {x.sku: i for i, x in enumerate(sale.lines)}
        out = []
        for v in refused.violations:
            sku = v.subject.rsplit("/", 1)[-1]
            out.append(LineProblem(index.get(sku, -1), sku, reason, v.description))
        return out
