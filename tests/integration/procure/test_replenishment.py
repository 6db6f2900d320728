"""Replenishment on worked examples: real levels, real shipments, real orders."""

from __future__ import annotations

from stockmesh.procure.v1 import procure_pb2 as pb
from stockmesh.stock.v1 import stock_pb2
from tests import harness
from tests.conftest import new_id
from tests.integration.procure.conftest import Buying, days


def low_level(buying: Buying, warehouse: str, sku: str, *, shipped: int, left: int) -> None:
    """A level with `left` available after `shipped` went out, reorder point 5."""
    world = buying.world
    world.receive(warehouse, sku, shipped + left)
    reservation = world.reserve([(warehouse, sku, shipped)]).reservation
    world.reservations.CommitReservation(
        stock_pb2.CommitReservationRequest(request_id=new_id(), name=reservation.name),
        metadata=world.as_role(),
        timeout=10,
    )
    world.levels.SetReorderPolicy(
        stock_pb2.SetReorderPolicyRequest(
            request_id=new_id(), name=f"{warehouse}/stockLevels/{sku}", reorder_point=5, reorder_quantity=1
        ),
        metadata=world.as_role(),
        timeout=10,
    )


def test_proposes_the_worked_examples_and_nothing_already_on_order(buying: Buying) -> None:
    wanted, coming, orphan = buying.world.skus(3)
    warehouse = buying.world.warehouse()
    for sku in (wanted, coming, orphan):
        low_level(buying, warehouse, sku, shipped=56, left=3)
    supplier = buying.supplier(lead_days=7)
    buying.item(supplier, wanted, cents=200, moq=50, pack=12)
    buying.item(supplier, coming, moq=1, pack=1)
    buying.order(supplier, warehouse, [(coming, 40)])  # submitted: on order

    reply = buying.replenishment.ProposeReplenishment(
        pb.ProposeReplenishmentRequest(warehouse=warehouse, demand_window=days(28), coverage=days(14)),
        metadata=buying.world.as_role(),
        timeout=15,
    )
    by_sku = {p.sku: p for p in reply.proposals}
    assert [p.sku for p in reply.proposals] == [wanted, coming, orphan]  # PROPOSED, COVERED, NO_SUPPLIER

    # demand 56 in 28 d = 2/d; target 5 + ceil(2 * (7 + 14)) = 47; need 44; MOQ 50 -> 50; pack 12 -> 60
    p = by_sku[wanted]
    assert p.status == pb.PROPOSAL_STATUS_PROPOSED
    assert (p.available, p.demand_quantity, p.daily_demand, p.target_position) == (3, 56, 2.0, 47)
    assert (p.raw_quantity, p.suggested_quantity) == (44, 60)
    assert (p.line_total.units, p.line_total.nanos) == (120, 0)
    assert p.supplier == supplier

    covered = by_sku[coming]
    assert (covered.status, covered.on_order_quantity, covered.suggested_quantity) == (
        pb.PROPOSAL_STATUS_COVERED,
        40,
        0,
    )
    # no supplier: lead time 0; target 5 + ceil(2 * 14) = 33; need 30
    none = by_sku[orphan]
    assert (none.status, none.target_position, none.suggested_quantity) == (
        pb.PROPOSAL_STATUS_NO_SUPPLIER,
        33,
        30,
    )


def test_proposal_lines_become_one_draft_per_supplier_and_are_not_proposed_again(buying: Buying) -> None:
    a, b = buying.world.skus(2)
    warehouse = buying.world.warehouse()
    for sku in (a, b):
        low_level(buying, warehouse, sku, shipped=56, left=3)
    first, second = buying.supplier(), buying.supplier()
    item_a = buying.item(first, a, moq=1, pack=1)
    item_b = buying.item(second, b, moq=1, pack=10)

    bad = pb.CreatePurchaseOrdersFromProposalRequest(
        request_id=new_id(),
        warehouse=warehouse,
        lines=[pb.ProposalLine(sku=b, supplier_item=item_b.name, quantity=15)],
    )
    refused = harness.refused(
        buying.replenishment.CreatePurchaseOrdersFromProposal,
        bad,
        metadata=buying.world.as_role(),
        timeout=10,
    )
    assert refused.reason == "NOT_PACK_MULTIPLE"

    created = buying.replenishment.CreatePurchaseOrdersFromProposal(
        pb.CreatePurchaseOrdersFromProposalRequest(
            request_id=new_id(),
            warehouse=warehouse,
            lines=[
                pb.ProposalLine(sku=b, supplier_item=item_b.name, quantity=50),
                pb.ProposalLine(sku=a, supplier_item=item_a.name, quantity=44),
            ],
            note="weekly",
        ),
        metadata=buying.world.as_role(),
        timeout=10,
    ).purchase_orders
    assert sorted([(o.supplier, o.lines[0].sku, o.lines[0].quantity_ordered) for o in created]) == sorted(
        [(first, a, 44), (second, b, 50)]
    )
    assert [o.supplier for o in created] == sorted([first, second])
    assert all(o.state == pb.PURCHASE_ORDER_STATE_DRAFT and o.note == "weekly" for o in created)

    again = buying.replenishment.ProposeReplenishment(
        pb.ProposeReplenishmentRequest(warehouse=warehouse), metadata=buying.world.as_role(), timeout=15
    )
    assert {(p.sku, p.status, p.draft_quantity, p.suggested_quantity) for p in again.proposals} == {
        (a, pb.PROPOSAL_STATUS_COVERED, 44, 0),
        (b, pb.PROPOSAL_STATUS_COVERED, 50, 0),
    }
