"""Replenishment proposals: what to buy for a warehouse, from whom, how much.

The numbers come from svc_stock (low levels, demand) and from this service
(open and draft purchase orders, supplier items); the formula is
svc_procure.domain.replenishment.propose, documented there and in docs/procure.md.

A warehouse may have tens of thousands of low levels, so a proposal streams
them a page (up to 1000) at a time: each page's demand, supplier items and
what is coming are asked for that page's SKUs only, its candidates computed,
and only the best MAX_PROPOSALS kept. Time is linear in the low levels and
the rows read for them; memory is a page plus the answer.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from clients.stock import LowLevel
from kit.errors import Violations
from kit.identity import Principal
from kit.uow import Units
from svc_procure import commands
from svc_procure.domain.replenishment import Position, Proposal, ProposalStatus, Sizing, choose, propose
from svc_procure.domain.suppliers import Supplier, SupplierItem, lead_time
from svc_procure.ports import Coming, ProcureUnit
from svc_procure.stock import StockLedger

MAX_PROPOSALS = 1000
MAX_SKUS = 500
MAX_DAYS = 365


@dataclass(frozen=True)
class Candidate:
    level: LowLevel
    position: Position
    proposal: Proposal
    item: SupplierItem | None
    supplier: Supplier | None
    lead_time_days: int


# The answer's order: PROPOSED, then COVERED, then NO_SUPPLIER; within a
# status by supplier resource name (none first), then SKU.
RANK = {ProposalStatus.PROPOSED: 0, ProposalStatus.COVERED: 1, ProposalStatus.NO_SUPPLIER: 2}


def order_key(c: Candidate) -> tuple[int, str, str]:
    """Unique per candidate (a warehouse has one level per SKU), so the best
    MAX_PROPOSALS by it are the same whatever order the pages come in."""
    return (RANK[c.proposal.status], f"suppliers/{c.supplier.id}" if c.supplier else "", c.level.sku)


@dataclass(frozen=True)
class Proposals:
    candidates: list[Candidate]
    truncated: bool
    window_days: int
    coverage_days: int
    computed_at: datetime


class Replenishment:
    def __init__(self, units: Units[ProcureUnit], stock: StockLedger) -> None:
        self.units = units
        self.stock = stock

    async def propose(self, who: Principal, cmd: commands.ProposeReplenishment) -> Proposals:
        violations = Violations()
        if not 1 <= cmd.window_days <= MAX_DAYS:
            violations.add("demand_window", "whole days, 1 to 365")
        if not 0 <= cmd.coverage_days <= MAX_DAYS:
            violations.add("coverage", "whole days, 0 to 365")
        if len(cmd.skus) > MAX_SKUS:
            violations.add("skus", f"at most {MAX_SKUS}")
        if await self.stock.warehouse_active(cmd.warehouse_id) is None:
            violations.add("warehouse", "no such warehouse")
        violations.raise_if_any()
        now = self.units.now()
        start = now - timedelta(days=cmd.window_days)
        best: list[Candidate] = []
        count = 0
        # One read unit for every page: orders, items and suppliers are read
        # on one snapshot and agree with each other, as they did when read at once.
        async with self.units.read() as uow:
            suppliers = await uow.suppliers.active(who.tenant_id)  # tens or hundreds
            async with aclosing(ahead(self._low_pages(cmd))) as pages:
                async for lows in pages:
                    if not lows:
                        continue
                    page = await self._page(uow, who.tenant_id, cmd, lows, suppliers, start)
                    count += len(page)
                    # nsmallest keeps a heap of MAX_PROPOSALS: O(page * log 1000),
                    # and never more than the answer and a page in memory.
                    best = heapq.nsmallest(MAX_PROPOSALS, [*best, *page], key=order_key)
        return Proposals(best, count > MAX_PROPOSALS, cmd.window_days, cmd.coverage_days, now)

    async def _low_pages(self, cmd: commands.ProposeReplenishment) -> AsyncIterator[list[LowLevel]]:
        if cmd.skus:  # at most 500: asked for by name, in one page, not found among every low level
            yield await self.stock.low_levels_of(cmd.warehouse_id, cmd.skus)
            return
        async for page in self.stock.low_level_pages(cmd.warehouse_id):
            yield page

    async def _page(
        self,
        uow: ProcureUnit,
        tenant_id: str,
        cmd: commands.ProposeReplenishment,
        lows: Sequence[LowLevel],
        suppliers: dict[str, Supplier],
        start: datetime,
    ) -> list[Candidate]:
        """The candidates of one page of low levels, from what is known of its SKUs only."""
        skus = [lv.sku for lv in lows]
        # svc_stock sums the demand while this service reads its own rows.
        asked = asyncio.ensure_future(self.stock.demand(cmd.warehouse_id, skus, start))
        try:
            coming = await uow.orders.coming(tenant_id, cmd.warehouse_id, skus)
            items: dict[str, list[SupplierItem]] = {}
            for i in await uow.items.active(tenant_id, skus):
                items.setdefault(i.sku, []).append(i)
            demand = await asked
        finally:
            drop(asked)  # done already, unless a read failed
        out: list[Candidate] = []
        for lv in lows:
            item = choose(items.get(lv.sku, []), suppliers)
            supplier = suppliers[item.supplier_id] if item else None
            days = lead_time(item, supplier) if item and supplier else 0
            sizing = Sizing(days, item.minimum_order_quantity, item.pack_size) if item else None
            seen = demand.get(lv.sku)
            due = coming.get(lv.sku, Coming())
            position = Position(
                available=lv.available,
                reorder_point=lv.reorder_point,
                reorder_quantity=lv.reorder_quantity,
                on_order=due.on_order,
                draft=due.draft,
                shipped=seen.shipped if seen else 0,
                returned=seen.returned if seen else 0,
            )
            proposal = propose(position, sizing, cmd.window_days, cmd.coverage_days)
            out.append(Candidate(lv, position, proposal, item, supplier, days))
        return out


async def ahead(pages: AsyncIterator[list[LowLevel]]) -> AsyncGenerator[list[LowLevel], None]:
    """`pages`, each with the next one already asked for while the caller
    works on it: svc_stock finds the next page while this service sizes the last."""
    following = asyncio.ensure_future(anext(pages, None))
    try:
        while (page := await following) is not None:
            following = asyncio.ensure_future(anext(pages, None))
            yield page
    finally:
        drop(following)  # done already, unless the caller stopped early (an error)


def drop(call: asyncio.Future[Any]) -> None:
    """Stop a call no one waits for any more; if it failed, that is no error
    of this request's (one is being raised already), so asyncio is told it
    was seen rather than logging it as lost."""
    if not call.done():
        call.cancel()
    elif not call.cancelled():
        call.exception()
