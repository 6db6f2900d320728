"""Replenishment proposals: what to buy for a warehouse, from whom, how much.

The numbers come from svc_stock (low levels, demand) and from this service
(open and draft purchase orders, supplier items); the formula is
svc_procure.domain.replenishment.propose, documented there and in docs/procure.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from clients.stock import LowLevel
from kit.errors import Violations
from kit.identity import Principal
from kit.uow import Units
from svc_procure import commands
from svc_procure.domain.orders import OPEN, PurchaseOrderState
from svc_procure.domain.replenishment import Position, Proposal, ProposalStatus, Sizing, choose, propose
from svc_procure.domain.suppliers import Supplier, SupplierItem, lead_time
from svc_procure.ports import ProcureUnit
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
        lows = await self.stock.low_levels(cmd.warehouse_id)
        if cmd.skus:
            lows = [lv for lv in lows if lv.sku in set(cmd.skus)]
        skus = [lv.sku for lv in lows]
        demand = (
            await self.stock.demand(cmd.warehouse_id, skus, now - timedelta(days=cmd.window_days))
            if skus
            else {}
        )
        async with self.units.read() as uow:
            orders = await uow.orders.incoming(who.tenant_id, cmd.warehouse_id)
            items = await uow.items.active(who.tenant_id, skus) if skus else []
            suppliers = await uow.suppliers.active(who.tenant_id)
        on_order: dict[str, int] = {}
        draft: dict[str, int] = {}
        for o in orders:
            into = draft if o.state is PurchaseOrderState.DRAFT else on_order
            if o.state is PurchaseOrderState.DRAFT or o.state in OPEN:
                for line in o.lines:
                    into[line.sku] = into.get(line.sku, 0) + line.quantity_ordered - line.quantity_received
        out: list[Candidate] = []
        for lv in lows:
            item = choose([i for i in items if i.sku == lv.sku], suppliers)
            supplier = suppliers[item.supplier_id] if item else None
            days = lead_time(item, supplier) if item and supplier else 0
            sizing = Sizing(days, item.minimum_order_quantity, item.pack_size) if item else None
            seen = demand.get(lv.sku)
            position = Position(
                available=lv.available,
                reorder_point=lv.reorder_point,
                reorder_quantity=lv.reorder_quantity,
                on_order=on_order.get(lv.sku, 0),
                draft=draft.get(lv.sku, 0),
                shipped=seen.shipped if seen else 0,
                returned=seen.returned if seen else 0,
            )
            proposal = propose(position, sizing, cmd.window_days, cmd.coverage_days)
            out.append(Candidate(lv, position, proposal, item, supplier, days))
        rank = {ProposalStatus.PROPOSED: 0, ProposalStatus.COVERED: 1, ProposalStatus.NO_SUPPLIER: 2}
        out.sort(
            key=lambda c: (
                rank[c.proposal.status],
                f"suppliers/{c.supplier.id}" if c.supplier else "",
                c.level.sku,
            )
        )
        return Proposals(
            out[:MAX_PROPOSALS], len(out) > MAX_PROPOSALS, cmd.window_days, cmd.coverage_days, now
        )
