"""Replenishment through the real services, on SQLite and PostgreSQL, for a
warehouse with more low levels than one page of ListLowStock: the best 1000
kept across pages, with real orders on order, in draft and partly received."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stockmesh.procure.v1 import procure_pb2 as pb
from stockmesh.stock.v1 import stock_pb2
from tests import harness
from tests.conftest import Stacks, new_id
from tests.integration.procure.conftest import Buying, days, procure_stack
from tests.integration.procure.test_replenishment import low_level
from tests.integration.stock.conftest import stock_stack, world_of

FILLERS = 1026  # with 4 SKUs of the catalog: 1030 low levels, two pages of ListLowStock
IN_FLIGHT = 10


@pytest.fixture(scope="session")
def procure_on_backend(stacks: Stacks, backend: str) -> harness.ServiceProcess:
    return procure_stack(stacks, backend=backend)


@pytest.fixture
def buying_on_backend(
    procure_on_backend: harness.ServiceProcess, stacks: Stacks, backend: str
) -> Iterator[Buying]:
    for world in world_of(stock_stack(stacks, backend), stacks, backend):
        with procure_on_backend.channel() as channel:
            yield Buying(world, channel)


def low_without_stock(buying: Buying, warehouse: str, skus: list[str]) -> None:
    """Levels of no stock with reorder point 5: low. SetReorderPolicy creates
    them; ten calls in flight at a time (on SQLite they queue for its one
    writer, and fifty queued past a 30 s deadline on a loaded machine)."""
    world = buying.world
    for first in range(0, len(skus), IN_FLIGHT):
        calls = [
            world.levels.SetReorderPolicy.future(
                stock_pb2.SetReorderPolicyRequest(
                    request_id=new_id(),
                    name=f"{warehouse}/stockLevels/{sku}",
                    reorder_point=5,
                    reorder_quantity=1,
                ),
                metadata=tuple(world.as_role()),
                timeout=30,
            )
            for sku in skus[first : first + IN_FLIGHT]
        ]
        for call in calls:
            call.result()


def test_more_low_levels_than_a_page_keep_the_best_1000_with_what_is_coming(
    buying_on_backend: Buying,
) -> None:
    buying = buying_on_backend
    wanted, coming, partly, drafted = sorted(buying.world.skus(4))  # "SKU-…": after every filler
    fillers = [f"FILL-{n:04d}" for n in range(FILLERS)]
    warehouse = buying.world.warehouse()
    low_level(buying, warehouse, wanted, shipped=56, left=3)
    low_without_stock(buying, warehouse, [coming, partly, drafted, *fillers])
    supplier = buying.supplier(lead_days=7)
    buying.item(supplier, wanted, cents=200, moq=50, pack=12)
    for sku in (coming, partly, drafted):
        buying.item(supplier, sku)
    buying.order(supplier, warehouse, [(coming, 40)])
    part = buying.order(supplier, warehouse, [(partly, 10)])
    buying.receive(part.name, [(partly, 4)])  # 6 still on order, 4 available
    buying.order(supplier, warehouse, [(drafted, 3)], submit=False)

    reply = buying.replenishment.ProposeReplenishment(
        pb.ProposeReplenishmentRequest(warehouse=warehouse, demand_window=days(28), coverage=days(14)),
        metadata=tuple(buying.world.as_role()),
        timeout=30,
    )

    assert reply.truncated
    assert [p.sku for p in reply.proposals] == [wanted, drafted, coming, partly, *fillers[:996]]
    by_sku = {p.sku: p for p in reply.proposals}
    assert (by_sku[wanted].status, by_sku[wanted].suggested_quantity) == (pb.PROPOSAL_STATUS_PROPOSED, 60)
    # draft 3 counts: position 3 vs reorder point 5; need max(5 - 3, 1) = 2
    p = by_sku[drafted]
    assert (p.status, p.draft_quantity, p.on_order_quantity, p.suggested_quantity) == (
        pb.PROPOSAL_STATUS_PROPOSED,
        3,
        0,
        2,
    )
    assert (by_sku[coming].status, by_sku[coming].on_order_quantity) == (pb.PROPOSAL_STATUS_COVERED, 40)
    p = by_sku[partly]
    assert (p.status, p.available, p.on_order_quantity) == (pb.PROPOSAL_STATUS_COVERED, 4, 6)
    assert by_sku[fillers[0]].status == pb.PROPOSAL_STATUS_NO_SUPPLIER

    asked = buying.replenishment.ProposeReplenishment(
        pb.ProposeReplenishmentRequest(warehouse=warehouse, skus=[fillers[-1], partly, drafted, "NOT-LOW"]),
        metadata=tuple(buying.world.as_role()),
        timeout=30,
    )
    assert not asked.truncated
    assert [p.sku for p in asked.proposals] == [drafted, partly, fillers[-1]]
