"""Replenishment proposals from svc_stock's low levels and demand, and this service's orders."""

from __future__ import annotations

import pytest

from clients.stock import Demand, LowLevel
from kit import errors
from svc_procure import commands
from svc_procure.domain.replenishment import ProposalStatus
from tests.unit.procure.conftest import WAREHOUSE, Procure

P = ProposalStatus


def low(sku: str, available: int = 3, reorder_point: int = 5) -> LowLevel:
    return LowLevel(sku, available, 0, available, reorder_point, 0)


def propose(*skus: str, window: int = 28, coverage: int = 14) -> commands.ProposeReplenishment:
    return commands.ProposeReplenishment(WAREHOUSE, window, coverage, skus)


async def test_the_preferred_item_sizes_the_proposal_with_its_lead_time(procure: Procure) -> None:
    cheap, preferred = await procure.supplier(lead_days=1), await procure.supplier(lead_days=7)
    await procure.item(cheap, "A", cost=1)
    chosen = await procure.item(preferred, "A", cost=5, moq=50, pack=12, preferred=True)
    procure.stock.low[WAREHOUSE] = [low("A")]
    procure.stock.demands["A"] = Demand(shipped=56, returned=0)
    found = await procure.replenishment.propose(procure.buyer, propose())
    (candidate,) = found.candidates
    assert (candidate.item, candidate.lead_time_days) == (chosen, 7)
    assert (candidate.proposal.status, candidate.proposal.suggested_quantity) == (P.PROPOSED, 60)
    assert (found.window_days, found.coverage_days, found.computed_at) == (28, 14, procure.clock.now)


async def test_drafts_and_open_orders_count_as_coming_and_cover_a_level(procure: Procure) -> None:
    supplier = await procure.supplier()
    await procure.item(supplier, "A")
    await procure.item(supplier, "B")
    await procure.order(supplier, [("A", 2)])
    await procure.order(supplier, [("A", 1)], submit=False)
    procure.stock.low[WAREHOUSE] = [low("A", available=3), low("B", available=0), low("C")]
    found = await procure.replenishment.propose(procure.buyer, propose())
    by_sku = {c.level.sku: c for c in found.candidates}
    assert (by_sku["A"].position.on_order, by_sku["A"].position.draft) == (2, 1)
    assert by_sku["A"].proposal.status is P.COVERED
    assert by_sku["C"].proposal.status is P.NO_SUPPLIER
    assert [c.level.sku for c in found.candidates] == ["B", "A", "C"]  # proposed, covered, no supplier


async def test_only_the_asked_skus_are_proposed(procure: Procure) -> None:
    procure.stock.low[WAREHOUSE] = [low("A"), low("B")]
    found = await procure.replenishment.propose(procure.buyer, propose("B"))
    assert [c.level.sku for c in found.candidates] == ["B"]


async def test_a_bad_window_coverage_and_warehouse_are_named_together(procure: Procure) -> None:
    cmd = commands.ProposeReplenishment("gone", 0, 400, ())
    with pytest.raises(errors.InvalidArgument) as refused:
        await procure.replenishment.propose(procure.buyer, cmd)
    assert [v.field for v in refused.value.violations] == ["demand_window", "coverage", "warehouse"]
