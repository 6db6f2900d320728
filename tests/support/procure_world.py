"""A tenant's buying world for replenishment tests, made at random from a seed
(suppliers, items, purchase orders in every state, low levels and demand),
and replenishment as it was computed before proposals streamed pages: every
low level at once, every incoming order, a list scan per level, one sort.
The oracle the streaming use case must agree with, candidate for candidate."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime

from clients.stock import Demand, LowLevel
from svc_procure import commands
from svc_procure.domain.orders import OPEN, OrderLine, PurchaseOrder, PurchaseOrderState
from svc_procure.domain.replenishment import Position, ProposalStatus, Sizing, choose, propose
from svc_procure.domain.suppliers import Status, Supplier, SupplierItem, lead_time
from svc_procure.usecases.replenishment import MAX_PROPOSALS, Candidate

WHEN = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
S = PurchaseOrderState


@dataclass
class World:
    suppliers: list[Supplier] = field(default_factory=list)
    items: list[SupplierItem] = field(default_factory=list)
    orders: list[PurchaseOrder] = field(default_factory=list)
    lows: list[LowLevel] = field(default_factory=list)
    demands: dict[str, Demand] = field(default_factory=dict)


def supplier(tenant: str, n: int, *, lead: int = 7, archived: bool = False) -> Supplier:
    status = Status.ARCHIVED if archived else Status.ACTIVE
    return Supplier(
        id=f"{tenant}-s{n:03d}",
        tenant_id=tenant,
        display_name=f"Supplier {n}",
        contact_name="",
        contact_email="",
        contact_phone="",
        currency_code="EUR",
        default_lead_time_days=lead,
        note="",
        status=status,
        created_at=WHEN,
        updated_at=WHEN,
        archived_at=None,
        version=1,
    )


def item(
    of: Supplier,
    sku: str,
    *,
    cost: int = 1_000,
    lead: int | None = None,
    moq: int = 1,
    pack: int = 1,
    preferred: bool = False,
    archived: bool = False,
) -> SupplierItem:
    status = Status.ARCHIVED if archived else Status.ACTIVE
    return SupplierItem(
        id=f"{of.id}-{sku}",
        tenant_id=of.tenant_id,
        supplier_id=of.id,
        sku=sku,
        supplier_sku=f"X-{sku}",
        unit_cost_nanos=cost,
        lead_time_days=lead,
        minimum_order_quantity=moq,
        pack_size=pack,
        preferred=preferred,
        status=status,
        created_at=WHEN,
        updated_at=WHEN,
        version=1,
    )


def order(
    number: int, of: Supplier, warehouse: str, state: PurchaseOrderState, lines: list[tuple[str, int, int]]
) -> PurchaseOrder:
    """`lines`: (sku, ordered, received)."""
    return PurchaseOrder(
        id=f"{of.tenant_id}-o{number:05d}",
        tenant_id=of.tenant_id,
        number=f"PO-{number:05d}",
        supplier_id=of.id,
        warehouse_id=warehouse,
        state=state,
        lines=tuple(OrderLine(sku, f"{of.id}-{sku}", f"X-{sku}", q, r, 1_000) for sku, q, r in lines),
        currency_code="EUR",
        expected_delivery_at=None,
        supplier_reference="",
        note="",
        creator="u1",
        created_at=WHEN,
        updated_at=WHEN,
        submitted_at=None,
        ended_at=None,
        end_reason="",
        version=1,
    )


def low(sku: str, available: int, reorder_point: int, reorder_quantity: int = 1) -> LowLevel:
    return LowLevel(sku, available, 0, available, reorder_point, reorder_quantity)


def random_world(
    seed: int, tenant: str, warehouse: str, *, lows: int, skus: int | None = None, orders: int = 300
) -> World:
    """`lows` low levels of `warehouse` among `skus` SKUs (default twice as
    many); items for most SKUs from a few suppliers (some archived, some
    items archived or preferred, costs and lead times that tie); orders in
    every state into this and another warehouse, some partly received; and
    another tenant's supplier, items and orders of the same SKUs."""
    rnd = random.Random(seed)
    names = [f"SKU-{n:05d}" for n in range(skus or 2 * lows)]
    world = World()
    world.suppliers = [supplier(tenant, n, lead=rnd.choice([3, 7, 7, 14]), archived=n == 4) for n in range(6)]
    stranger = supplier("other-tenant", 0)
    world.suppliers.append(stranger)
    for sku in names:
        for s in rnd.sample(world.suppliers[:6], rnd.choice([0, 1, 1, 2, 3])):
            world.items.append(
                item(
                    s,
                    sku,
                    cost=rnd.choice([900, 1_000, 1_000]),
                    lead=rnd.choice([None, None, 2, 7]),
                    moq=rnd.choice([1, 1, 10, 50]),
                    pack=rnd.choice([1, 1, 6, 12]),
                    preferred=rnd.random() < 0.15,
                    archived=rnd.random() < 0.1,
                )
            )
        if rnd.random() < 0.2:
            world.items.append(item(stranger, sku, cost=1))
    states = list(PurchaseOrderState)
    for n in range(orders):
        by = rnd.choice([*world.suppliers[:6], stranger])
        state = rnd.choice(states)
        lines = []
        for sku in rnd.sample(names, rnd.randint(1, 8)):
            ordered = rnd.randint(1, 60)
            received = 0 if state is S.DRAFT else rnd.randint(0, ordered)
            lines.append((sku, ordered, received))
        world.orders.append(order(n, by, rnd.choice([warehouse, warehouse, "elsewhere"]), state, lines))
    for sku in sorted(rnd.sample(names, lows)):  # ListLowStock answers by SKU
        point = rnd.randint(0, 30)
        world.lows.append(low(sku, rnd.randint(-5, point), point, rnd.choice([1, 5, 20])))
        if rnd.random() < 0.8:
            world.demands[sku] = Demand(rnd.randint(0, 200), rnd.randint(0, 20))
    return world


def before(world: World, tenant: str, cmd: commands.ProposeReplenishment) -> tuple[list[Candidate], bool]:
    """The proposal as computed before it streamed (the old use case's body,
    reading the world instead of its repositories): the candidates and
    `truncated`."""
    lows = list(world.lows)
    if cmd.skus:
        lows = [lv for lv in lows if lv.sku in set(cmd.skus)]
    skus = [lv.sku for lv in lows]
    demand = {sku: world.demands[sku] for sku in skus if sku in world.demands}
    incoming = (S.DRAFT, *OPEN)
    orders = [
        o
        for o in world.orders
        if o.tenant_id == tenant and o.warehouse_id == cmd.warehouse_id and o.state in incoming
    ]
    items = [i for i in world.items if i.tenant_id == tenant and i.sku in skus and i.status is Status.ACTIVE]
    suppliers = {s.id: s for s in world.suppliers if s.tenant_id == tenant and s.status is Status.ACTIVE}
    on_order: dict[str, int] = {}
    draft: dict[str, int] = {}
    for o in orders:
        into = draft if o.state is S.DRAFT else on_order
        for line in o.lines:
            into[line.sku] = into.get(line.sku, 0) + line.quantity_ordered - line.quantity_received
    out: list[Candidate] = []
    for lv in lows:
        chosen = choose([i for i in items if i.sku == lv.sku], suppliers)
        by = suppliers[chosen.supplier_id] if chosen else None
        days = lead_time(chosen, by) if chosen and by else 0
        sizing = Sizing(days, chosen.minimum_order_quantity, chosen.pack_size) if chosen else None
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
        out.append(Candidate(lv, position, proposal, chosen, by, days))
    rank = {ProposalStatus.PROPOSED: 0, ProposalStatus.COVERED: 1, ProposalStatus.NO_SUPPLIER: 2}
    out.sort(
        key=lambda c: (
            rank[c.proposal.status],
            f"suppliers/{c.supplier.id}" if c.supplier else "",
            c.level.sku,
        )
    )
    return out[:MAX_PROPOSALS], len(out) > MAX_PROPOSALS
