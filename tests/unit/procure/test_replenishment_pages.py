"""Replenishment streamed page by page: the same answer as when every low level
was read at once, the best 1000 kept whatever page they come in, each page
asking about its own SKUs only."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from clients.stock import Demand, LowLevel
from kit import errors
from svc_procure import commands
from svc_procure.domain.orders import PurchaseOrderState
from svc_procure.domain.replenishment import ProposalStatus
from svc_procure.ports import Coming
from svc_procure.usecases.replenishment import MAX_PROPOSALS
from tests.support.procure_world import World, before, item, low, order, random_world, supplier
from tests.unit.procure.conftest import WAREHOUSE, Procure

P = ProposalStatus
S = PurchaseOrderState
TENANT = "t1"  # the conftest's buyer's


def propose(*skus: str) -> commands.ProposeReplenishment:
    return commands.ProposeReplenishment(WAREHOUSE, 28, 14, skus)


async def given(procure: Procure, world: World) -> None:
    # Straight into the state: the fake's add checks every item of a supplier
    # for duplicates, which thousands of items make slow (SQL has an index).
    state = procure.state
    state.suppliers |= {(s.tenant_id, s.id): s for s in world.suppliers}
    state.items |= {(i.tenant_id, i.id): i for i in world.items}
    state.orders |= {(o.tenant_id, o.id): o for o in world.orders}
    procure.stock.low[WAREHOUSE] = world.lows
    procure.stock.demands = world.demands


@pytest.mark.parametrize(
    ("seed", "lows", "page_size"),
    [(1, 700, 1000), (2, 2300, 1000), (3, 160, 7)],
    ids=["one-page", "three-pages-truncated", "many-small-pages"],
)
async def test_a_mixed_warehouse_in_pages_gets_the_answer_it_got_at_once(
    procure: Procure, seed: int, lows: int, page_size: int
) -> None:
    world = random_world(seed, TENANT, WAREHOUSE, lows=lows)
    await given(procure, world)
    procure.stock.page_size = page_size

    found = await procure.replenishment.propose(procure.buyer, propose())

    candidates, truncated = before(world, TENANT, propose())
    assert (found.candidates, found.truncated) == (candidates, truncated)
    assert truncated is (lows > MAX_PROPOSALS)
    assert any(c.position.on_order for c in found.candidates)
    assert any(c.position.draft for c in found.candidates)
    if not truncated:  # the best 1000 of a large mix are all PROPOSED
        assert {c.proposal.status for c in found.candidates} == set(P)


async def test_asked_skus_get_the_answer_they_got_at_once(procure: Procure) -> None:
    world = random_world(4, TENANT, WAREHOUSE, lows=900)
    await given(procure, world)
    asked = (*(lv.sku for lv in world.lows[::3]), "NOT-LOW", world.lows[0].sku)

    found = await procure.replenishment.propose(procure.buyer, propose(*asked))

    candidates, truncated = before(world, TENANT, propose(*asked))
    assert (found.candidates, found.truncated) == (candidates, truncated)
    assert not truncated
    assert len(found.candidates) == 300


async def test_the_best_1000_are_kept_even_when_they_come_on_the_last_page(procure: Procure) -> None:
    # 1100 SKUs without a supplier on the first pages, 400 proposed on the last.
    acme = supplier(TENANT, 1)
    world = World(suppliers=[acme], lows=[low(f"SKU-{n:04d}", 0, 5) for n in range(1500)])
    world.items = [item(acme, lv.sku) for lv in world.lows[1100:]]
    await given(procure, world)

    found = await procure.replenishment.propose(procure.buyer, propose())

    assert found.truncated
    assert len(found.candidates) == MAX_PROPOSALS
    assert [c.level.sku for c in found.candidates] == [
        *(f"SKU-{n:04d}" for n in range(1100, 1500)),  # PROPOSED, by supplier then SKU
        *(f"SKU-{n:04d}" for n in range(600)),  # then the first NO_SUPPLIER by SKU
    ]
    assert [c.proposal.status for c in found.candidates[399:401]] == [P.PROPOSED, P.NO_SUPPLIER]


@pytest.mark.parametrize(("lows", "truncated"), [(1000, False), (1001, True)])
async def test_truncated_says_whether_there_were_more_than_1000(
    procure: Procure, lows: int, truncated: bool
) -> None:
    procure.stock.low[WAREHOUSE] = [low(f"SKU-{n:04d}", 0, 5) for n in range(lows)]

    found = await procure.replenishment.propose(procure.buyer, propose())

    assert (len(found.candidates), found.truncated) == (MAX_PROPOSALS, truncated)


async def test_each_level_is_sized_by_an_item_of_its_own_sku(procure: Procure) -> None:
    cheap, dear = supplier(TENANT, 1, lead=3), supplier(TENANT, 2, lead=9)
    gone = supplier(TENANT, 3, archived=True)
    world = World(
        suppliers=[cheap, dear, gone],
        items=[
            item(cheap, "A", cost=100, moq=7),
            item(dear, "A", cost=900, moq=1),
            item(cheap, "B", cost=100, archived=True),  # not offered
            item(dear, "B", cost=900, pack=4, preferred=True),
            item(gone, "C", cost=1),  # its supplier is archived
            item(cheap, "D", cost=500, lead=1),
        ],
        lows=[low(sku, 0, 5) for sku in "ABCD"],
    )
    await given(procure, world)

    found = await procure.replenishment.propose(procure.buyer, propose())

    chosen = {c.level.sku: (c.item.id if c.item else None, c.lead_time_days) for c in found.candidates}
    assert chosen == {
        "A": (f"{cheap.id}-A", 3),
        "B": (f"{dear.id}-B", 9),
        "C": (None, 0),
        "D": (f"{cheap.id}-D", 1),
    }


async def test_on_order_and_draft_sum_what_is_still_to_come_of_each_sku(procure: Procure) -> None:
    acme, stranger = supplier(TENANT, 1), supplier("other-tenant", 1)
    world = World(
        suppliers=[acme, stranger],
        orders=[
            order(1, acme, WAREHOUSE, S.SUBMITTED, [("A", 10, 0), ("B", 3, 0)]),
            order(2, acme, WAREHOUSE, S.PARTIALLY_RECEIVED, [("A", 10, 4), ("B", 5, 5)]),
            order(3, acme, WAREHOUSE, S.DRAFT, [("A", 5, 0)]),
            order(4, acme, WAREHOUSE, S.DRAFT, [("A", 2, 0), ("C", 8, 0)]),
            order(5, acme, WAREHOUSE, S.RECEIVED, [("A", 100, 100)]),
            order(6, acme, WAREHOUSE, S.CANCELLED, [("A", 50, 0)]),
            order(7, acme, WAREHOUSE, S.CLOSED, [("A", 20, 5)]),
            order(8, acme, "elsewhere", S.SUBMITTED, [("A", 7, 0)]),
            order(9, stranger, WAREHOUSE, S.SUBMITTED, [("A", 9, 0)]),
        ],
        lows=[low(sku, 0, 50) for sku in "ABCD"],
    )
    await given(procure, world)

    found = await procure.replenishment.propose(procure.buyer, propose())

    coming = {c.level.sku: (c.position.on_order, c.position.draft) for c in found.candidates}
    assert coming == {"A": (16, 7), "B": (3, 0), "C": (0, 8), "D": (0, 0)}
    async with procure.units.read() as uow:
        assert await uow.orders.coming(TENANT, WAREHOUSE, ["A", "C", "D"]) == {
            "A": Coming(on_order=16, draft=7),
            "C": Coming(on_order=0, draft=8),
        }


async def test_each_page_asks_for_the_demand_of_its_own_skus(procure: Procure) -> None:
    procure.stock.low[WAREHOUSE] = [low(f"SKU-{n:04d}", 0, 5) for n in range(2500)]
    procure.stock.demands = {"SKU-0001": Demand(28, 0), "SKU-2499": Demand(28, 0)}

    found = await procure.replenishment.propose(procure.buyer, propose())

    pages = [skus for what, skus in procure.stock.asked if what == "low"]
    demand = [skus for what, skus in procure.stock.asked if what == "demand"]
    assert [len(p) for p in pages] == [1000, 1000, 500]
    assert demand == pages  # asked page by page, each for that page only
    assert [c.level.sku for c in found.candidates] == [f"SKU-{n:04d}" for n in range(1000)]
    assert found.candidates[1].position.shipped == 28


async def test_asked_skus_are_read_by_name_not_among_every_low_level(procure: Procure) -> None:
    procure.stock.low[WAREHOUSE] = [low("A", 0, 5), low("B", 0, 5)]

    found = await procure.replenishment.propose(procure.buyer, propose("B", "Z"))

    assert [c.level.sku for c in found.candidates] == ["B"]
    assert procure.stock.asked == [("low_of", ["B", "Z"]), ("demand", ["B"])]


async def test_a_warehouse_with_nothing_low_proposes_nothing_and_asks_no_demand(procure: Procure) -> None:
    found = await procure.replenishment.propose(procure.buyer, propose())

    assert (found.candidates, found.truncated) == ([], False)
    assert procure.stock.asked == [("low", [])]


async def test_svc_stock_failing_between_pages_fails_the_proposal_as_unavailable(
    procure: Procure, monkeypatch: pytest.MonkeyPatch
) -> None:
    procure.stock.low[WAREHOUSE] = [low(f"SKU-{n:04d}", 0, 5) for n in range(2500)]
    pages = procure.stock.low_level_pages

    async def failing_after_one(warehouse_id: str) -> AsyncIterator[list[LowLevel]]:
        async for page in pages(warehouse_id):
            yield page
            procure.stock.reachable = False  # the next page, and this page's demand, fail

    monkeypatch.setattr(procure.stock, "low_level_pages", failing_after_one)

    with pytest.raises(errors.Unavailable) as refused:  # itself, not wrapped in an ExceptionGroup
        await procure.replenishment.propose(procure.buyer, propose())

    assert refused.value.reason == "STOCK_UNAVAILABLE"
