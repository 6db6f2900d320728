"""Replenishment: what to buy for a warehouse, from whom, how much."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from svc_procure.domain.suppliers import Supplier, SupplierItem, lead_time

DEFAULT_WINDOW_DAYS = 28
DEFAULT_COVERAGE_DAYS = 14


class ProposalStatus(StrEnum):
    PROPOSED = "proposed"
    COVERED = "covered"
    NO_SUPPLIER = "no_supplier"


@dataclass(frozen=True)
class Position:
    """A stock level and what is coming, as replenishment sees it."""

    available: int
    reorder_point: int
    reorder_quantity: int
    on_order: int
    draft: int
    shipped: int
    returned: int


@dataclass(frozen=True)
class Sizing:
    """The chosen supplier item's terms; None in a proposal means NO_SUPPLIER."""

    lead_time_days: int
    minimum_order_quantity: int
    pack_size: int


@dataclass(frozen=True)
class Proposal:
    status: ProposalStatus
    inventory_position: int
    demand: int
    daily_demand: float
    target_position: int
    raw_quantity: int
    suggested_quantity: int
    explanation: str


def propose(p: Position, sizing: Sizing | None, window_days: int, coverage_days: int) -> Proposal:
    """The replenishment formula (see ReplenishmentService in the contract and
    docs/procure.md):

        demand             = max(shipped - returned, 0)
        daily_demand       = demand / window_days
        inventory_position = available + on_order + draft
        inventory_position > reorder_point  ->  COVERED, 0
        target_position    = reorder_point + ceil(daily_demand * (lead_time + coverage))
        raw_quantity       = max(target_position - inventory_position, reorder_quantity)
        suggested          = max(raw_quantity, MOQ) rounded up to a multiple of pack_size

    What is on order or drafted counts in the position, so a SKU already coming
    is never proposed again. Without a supplier: lead time 0, no MOQ or pack.
    The ceiling is taken on an exact fraction (demand * days / window), so no
    float rounding can tip a whole number up by one.
    """
    demand = max(p.shipped - p.returned, 0)
    daily = demand / window_days
    position = p.available + p.on_order + p.draft
    lead = sizing.lead_time_days if sizing else 0
    head = (
        f"available {p.available} + on order {p.on_order} + draft {p.draft} = {position}"
        f" vs reorder point {p.reorder_point}"
    )
    if position > p.reorder_point:
        return Proposal(ProposalStatus.COVERED, position, demand, daily, 0, 0, 0, f"{head}: covered")
    cover = -(-demand * (lead + coverage_days) // window_days)  # exact ceil
    target = p.reorder_point + cover
    raw = max(target - position, p.reorder_quantity)
    text = (
        f"{head}; demand {demand} in {window_days} d; target {p.reorder_point} + "
        f"ceil({demand}/{window_days} * ({lead} + {coverage_days})) = {target}; need {raw}"
    )
    if sizing is None:
        return Proposal(
            ProposalStatus.NO_SUPPLIER, position, demand, daily, target, raw, raw, f"{text}; no supplier"
        )
    qty = max(raw, sizing.minimum_order_quantity)
    text += f"; MOQ {sizing.minimum_order_quantity} -> {qty}"
    qty = -(-qty // sizing.pack_size) * sizing.pack_size
    text += f"; pack {sizing.pack_size} -> {qty}"
    return Proposal(ProposalStatus.PROPOSED, position, demand, daily, target, raw, qty, text)


def choose(items: list[SupplierItem], suppliers: dict[str, Supplier]) -> SupplierItem | None:
    """The preferred active item of an active supplier; else the cheapest, then
    the quickest, then the lowest supplier resource name."""
    usable = [i for i in items if i.supplier_id in suppliers]
    preferred = [i for i in usable if i.preferred]
    pool = preferred or usable
    if not pool:
        return None
    return min(
        pool,
        key=lambda i: (
            i.unit_cost_nanos,
            lead_time(i, suppliers[i.supplier_id]),
            f"suppliers/{i.supplier_id}",
        ),
    )
