"""The ledger read: one movement, movements listed, and the demand they show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from kit import paging
from kit.errors import NotFound, Violations
from kit.identity import Principal
from kit.paging import Page
from kit.uow import Units
from svc_stock import commands, domain
from svc_stock.domain import Movement
from svc_stock.ports import DemandSums, MovementQuery, StockUnit
from svc_stock.usecases.warehouses import existing_warehouses

MAX_DEMAND_WINDOW = timedelta(days=400)
NO_DEMAND = DemandSums(0, 0, 0, None, None)


@dataclass(frozen=True)
class Demand:
    sku: str
    sums: DemandSums


@dataclass(frozen=True)
class DemandPage:
    summaries: list[Demand]
    next_page_token: str
    start: datetime
    end: datetime


class Movements:
    def __init__(self, units: Units[StockUnit]) -> None:
        self.units = units
        self.now = units.now

    async def get_movement(self, who: Principal, movement_id: str) -> Movement:
        async with self.units.read() as uow:
            found = await uow.ledger.get(who.tenant_id, movement_id)
        if found is None:
            raise NotFound("movement", f"movements/{movement_id}")
        return found

    async def list_movements(self, who: Principal, query: commands.ListMovements) -> Page[Movement]:
        size = paging.page_size(query.page_size)
        filters = paging.filters_digest(
            query.warehouse_id,
            query.sku,
            sorted(set(query.types)),
            query.reference,
            query.reservation_id,
            query.start,
            query.end,
            query.after_sequence,
            query.newest_first,
        )
        cursor = paging.cursor_for(query.page_token, filters, {"seq": int})
        resume = cursor["seq"] if cursor else 0
        wanted = MovementQuery(
            warehouse_id=query.warehouse_id,
            sku=query.sku,
            types=query.types,
            reference=query.reference,
            reservation_id=query.reservation_id,
            start=query.start,
            end=query.end,
            after_sequence=max(query.after_sequence, resume if not query.newest_first else 0),
            before_sequence=resume if query.newest_first and resume else None,
            newest_first=query.newest_first,
            limit=size + 1,
        )
        async with self.units.read() as uow:
            found = await uow.ledger.find(who.tenant_id, wanted)
        return paging.page_of(found, size, lambda m: {"seq": m.sequence, "f": filters})

    async def summarize_demand(self, who: Principal, query: commands.SummarizeDemand) -> DemandPage:
        end = query.end or self.now()
        violations = Violations()
        if end < query.start:
            violations.add("end_time", "before start_time")
        elif end - query.start > MAX_DEMAND_WINDOW:
            violations.add("start_time", "the window is at most 400 days")
        if len(query.skus) > domain.MAX_LINES:
            violations.add("skus", "at most 500")
        violations.raise_if_any()
        size = paging.page_size(query.page_size)
        # the end as asked: an open window ends "now" on every page alike
        filters = paging.filters_digest(query.warehouse_id, query.start, query.end, sorted(set(query.skus)))
        cursor = paging.cursor_for(query.page_token, filters, {"after_sku": str})
        after = cursor["after_sku"] if cursor else ""
        # Only this page is summed: the SKUs asked for, or the ledger's next
        # SKUs with demand in the window (the store stops after them).
        asked = sorted(s for s in set(query.skus) if s > after)[: size + 1]
        async with self.units.read() as uow:
            await existing_warehouses(uow, who.tenant_id, [query.warehouse_id])
            if query.skus:
                sums = (
                    await uow.ledger.demand(who.tenant_id, query.warehouse_id, query.start, end, asked)
                    if asked
                    else {}
                )
            else:
                sums = await uow.ledger.demand(
                    who.tenant_id, query.warehouse_id, query.start, end, (), after=after, limit=size + 1
                )
        skus = asked if query.skus else sorted(sums)
        page = paging.page_of(
            [Demand(s, sums.get(s, NO_DEMAND)) for s in skus],
            size,
            lambda d: {"after_sku": d.sku, "f": filters},
        )
        return DemandPage(page.items, page.next_page_token, query.start, end)
