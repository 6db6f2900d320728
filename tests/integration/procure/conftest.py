"""svc_procure with real neighbours on PostgreSQL: svc_user for tokens,
svc_catalog for SKUs, svc_stock for warehouses, levels, demand and receipts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pytest
from google.protobuf import duration_pb2
from google.type import money_pb2

from stockmesh.procure.v1 import procure_pb2 as pb
from stockmesh.procure.v1 import procure_pb2_grpc
from stockmesh.stock.v1 import stock_pb2
from tests import harness
from tests.conftest import Stacks, new_id
from tests.integration.stock.conftest import World, stock_stack, world_of

BACKEND = "postgresql"
FAST = {"STOCKMESH_PROCURE_BOOKING_SECONDS": "0.3"}


def procure_stack(
    stacks: Stacks, *, variant: str = "", stock_address: str | None = None, backend: str = BACKEND
) -> harness.ServiceProcess:
    user = stacks.user(backend)
    catalog = stacks.service("catalog", backend, env={"STOCKMESH_USER_ADDR": user.address})
    stock = stock_stack(stacks, backend)
    return stacks.service(
        "procure",
        backend,
        env={
            "STOCKMESH_USER_ADDR": user.address,
            "STOCKMESH_CATALOG_ADDR": catalog.address,
            "STOCKMESH_STOCK_ADDR": stock_address or stock.address,
            **FAST,
        },
        variant=variant,
    )


def days(n: int) -> duration_pb2.Duration:
    out = duration_pb2.Duration()
    out.FromSeconds(n * 86_400)
    return out


@dataclass
class Buying:
    """A tenant's world (catalog, stock) plus a channel to svc_procure."""

    world: World
    channel: grpc.Channel

    @property
    def suppliers(self) -> procure_pb2_grpc.SupplierServiceStub:
        return procure_pb2_grpc.SupplierServiceStub(self.channel)

    @property
    def orders(self) -> procure_pb2_grpc.PurchaseOrderServiceStub:
        return procure_pb2_grpc.PurchaseOrderServiceStub(self.channel)

    @property
    def replenishment(self) -> procure_pb2_grpc.ReplenishmentServiceStub:
        return procure_pb2_grpc.ReplenishmentServiceStub(self.channel)

    def supplier(self, lead_days: int = 7) -> str:
        created = self.suppliers.CreateSupplier(
            pb.CreateSupplierRequest(
                request_id=new_id(),
                supplier=pb.Supplier(
                    display_name="Acme", currency_code="EUR", default_lead_time=days(lead_days)
                ),
            ),
            metadata=self.world.as_role(),
            timeout=10,
        )
        return created.supplier.name

    def item(
        self, supplier: str, sku: str, *, cents: int = 150, moq: int = 1, pack: int = 1
    ) -> pb.SupplierItem:
        created = self.suppliers.CreateSupplierItem(
            pb.CreateSupplierItemRequest(
                request_id=new_id(),
                parent=supplier,
                supplier_item=pb.SupplierItem(
                    sku=sku,
                    supplier_sku=f"X-{sku}",
                    unit_cost=money_pb2.Money(
                        currency_code="EUR", units=cents // 100, nanos=(cents % 100) * 10_000_000
                    ),
                    minimum_order_quantity=moq,
                    pack_size=pack,
                ),
            ),
            metadata=self.world.as_role(),
            timeout=10,
        )
        return created.supplier_item

    def order(
        self, supplier: str, warehouse: str, lines: list[tuple[str, int]], *, submit: bool = True
    ) -> pb.PurchaseOrder:
        created = self.orders.CreatePurchaseOrder(
            pb.CreatePurchaseOrderRequest(
                request_id=new_id(),
                purchase_order=pb.PurchaseOrder(
                    supplier=supplier,
                    warehouse=warehouse,
                    lines=[pb.PurchaseOrderLine(sku=s, quantity_ordered=q) for s, q in lines],
                ),
            ),
            metadata=self.world.as_role(),
            timeout=10,
        ).purchase_order
        if not submit:
            return created
        submitted: pb.PurchaseOrder = self.orders.SubmitPurchaseOrder(
            pb.SubmitPurchaseOrderRequest(request_id=new_id(), name=created.name),
            metadata=self.world.as_role(),
            timeout=10,
        ).purchase_order
        return submitted

    def receive(
        self, order: str, lines: list[tuple[str, int]], *, request_id: str | None = None
    ) -> pb.ReceivePurchaseOrderResponse:
        response: pb.ReceivePurchaseOrderResponse = self.orders.ReceivePurchaseOrder(
            pb.ReceivePurchaseOrderRequest(
                request_id=request_id or new_id(),
                name=order,
                lines=[pb.ReceiptLine(sku=s, quantity=q) for s, q in lines],
            ),
            metadata=self.world.as_role(),
            timeout=15,
        )
        return response

    def receipts_in_ledger(self, warehouse: str, sku: str) -> list[stock_pb2.Movement]:
        reply = self.world.levels.ListMovements(
            stock_pb2.ListMovementsRequest(
                warehouse=warehouse, sku=sku, types=[stock_pb2.MOVEMENT_TYPE_RECEIPT], page_size=100
            ),
            metadata=self.world.as_role(),
            timeout=10,
        )
        return list(reply.movements)


@pytest.fixture(scope="session")
def procure_service(stacks: Stacks) -> harness.ServiceProcess:
    return procure_stack(stacks)


@pytest.fixture
def buying(procure_service: harness.ServiceProcess, stacks: Stacks) -> Iterator[Buying]:
    stock = stock_stack(stacks, BACKEND)
    for world in world_of(stock, stacks, BACKEND):
        with procure_service.channel() as channel:
            yield Buying(world, channel)
