"""Stock levels: read (a lapsed hold is free stock in every answer), listed,
their reorder policy, and their reconciliation (`reconciliation`)."""

from __future__ import annotations

from dataclasses import replace

from clients.catalog import Catalog
from kit import etag, idempotency, paging
from kit.errors import NotFound, Violations
from kit.identity import Principal
from kit.paging import Page
from kit.uow import Units
from svc_stock import commands, domain
from svc_stock.domain import Level
from svc_stock.ports import StockUnit
from svc_stock.usecases.reconciliation import Reconciliation, reconcile
from svc_stock.usecases.warehouses import active_warehouses, existing_warehouses


def level_etag(level: Level) -> str:
    return etag.etag(domain.level_name(level.warehouse_id, level.sku), level.version)


class Levels:
    def __init__(self, units: Units[StockUnit], catalog: Catalog) -> None:
        self.units = units
        self.now = units.now
        self.catalog = catalog

    async def get_level(self, who: Principal, warehouse_id: str, sku: str) -> Level:
        """A SKU the warehouse never held reads as zeros, if the catalog knows it."""
        key = (warehouse_id, sku)
        async with self.units.read() as uow:
            await existing_warehouses(uow, who.tenant_id, [warehouse_id])
            found = (await uow.levels.by_key(who.tenant_id, [key])).get(key)
            seen = (await self._as_seen(uow, who.tenant_id, [found]))[0] if found is not None else None
        if seen is not None:
            return seen
        if (await self.catalog.variants([sku])).unknown:
            raise NotFound("stock level", domain.level_name(warehouse_id, sku))
        return domain.empty_level(warehouse_id, sku)

    async def _as_seen(self, uow: StockUnit, tenant_id: str, levels: list[Level]) -> list[Level]:
        """Expiry takes effect at expire_time: a hold that lapsed is free stock
        in every answer, even before anyone writes its EXPIRE movement."""
        lapsed = await uow.reservations.lapsed_holds(
            tenant_id, [(v.warehouse_id, v.sku) for v in levels], self.now()
        )
        return [replace(v, reserved=v.reserved - lapsed.get((v.warehouse_id, v.sku), 0)) for v in levels]

    async def list_levels(self, who: Principal, query: commands.ListLevels) -> Page[Level]:
        size = paging.page_size(query.page_size)
        # low_only tells ListLowStock from ListStockLevels: one's token is no good to the other
        filters = paging.filters_digest(query.warehouse_id, sorted(set(query.skus)), query.low_only)
        cursor = paging.cursor_for(query.page_token, filters, {"w": str, "s": str})
        after = (cursor["w"], cursor["s"]) if cursor else None
        async with self.units.read() as uow:
            if query.warehouse_id is not None:
                await existing_warehouses(uow, who.tenant_id, [query.warehouse_id])
            found = await uow.levels.find(
                who.tenant_id,
                warehouse_id=query.warehouse_id,
                skus=query.skus,
                after=after,
                limit=size + 1,
                low_only=query.low_only,
            )
        return paging.page_of(found, size, lambda v: {"w": v.warehouse_id, "s": v.sku, "f": filters})

    async def set_reorder_policy(
        self, who: Principal, request_id: str, cmd: commands.SetReorderPolicy
    ) -> Level:
        violations = Violations()
        domain.check_sku(cmd.sku, "name", violations)
        if cmd.reorder_point < 0:
            violations.add("reorder_point", "0 or more")
        if cmd.reorder_quantity < 0:
            violations.add("reorder_quantity", "0 or more")
        violations.raise_if_any()
        key = (cmd.warehouse_id, cmd.sku)

        async def work(uow: StockUnit) -> Level:
            await active_warehouses(uow, who.tenant_id, [cmd.warehouse_id])
            current = (await uow.levels.by_key(who.tenant_id, [key])).get(key)
            if current is not None:
                etag.check(domain.level_name(*key), current.version, cmd.etag)
            await uow.levels.set_reorder_policy(
                who.tenant_id, key, cmd.reorder_point, cmd.reorder_quantity, self.now()
            )
            return (await uow.levels.by_key(who.tenant_id, [key]))[key]

        request = idempotency.Key(who.tenant_id, request_id, "SetReorderPolicy")
        return await self.units.once(request, cmd, Level)(work)

    async def reconcile(self, who: Principal, warehouse_id: str | None) -> Reconciliation:
        return await reconcile(self.units, who.tenant_id, warehouse_id)
