"""svc_order with real neighbours: svc_user, svc_catalog and svc_stock, each
its own process over mTLS, on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pytest
from google.protobuf import timestamp_pb2
from google.type import money_pb2

from stockmesh.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from stockmesh.order.v1 import order_pb2 as pb
from stockmesh.order.v1 import order_pb2_grpc
from tests import harness
from tests.conftest import Stacks, Tenant, create_tenant, new_id
from tests.integration.stock.conftest import World, stock_stack

BACKEND = "postgresql"


def order_stack(stacks: Stacks, *, variant: str = "", **settings: str) -> harness.ServiceProcess:
    """svc_order on PostgreSQL; a `variant` with other settings is its own process."""
    user = stacks.user(BACKEND)
    catalog = stacks.service("catalog", BACKEND, env={"STOCKMESH_USER_ADDR": user.address})
    stock = stock_stack(stacks, BACKEND)
    env = {
        "STOCKMESH_USER_ADDR": user.address,
        "STOCKMESH_CATALOG_ADDR": catalog.address,
        "STOCKMESH_STOCK_ADDR": stock.address,
        "STOCKMESH_ORDER_SWEEP_SECONDS": "0.5",
        **settings,
    }
    return stacks.service("order", BACKEND, env=env, variant=variant)


@dataclass
class Shop(World):
    """A fresh tenant with channels to every service, svc_order included."""

    order_channel: grpc.Channel | None = None

    @property
    def orders(self) -> order_pb2_grpc.OrderServiceStub:
        assert self.order_channel is not None
        return order_pb2_grpc.OrderServiceStub(self.order_channel)

    def stocked(self, count: int, quantity: int) -> tuple[str, list[str]]:
        """A warehouse and `count` new SKUs with `quantity` of each received."""
        warehouse = self.warehouse()
        skus = self.skus(count)
        for sku in skus:
            self.receive(warehouse, sku, quantity)
        return warehouse, skus

    def create(
        self,
        warehouse: str,
        lines: list[tuple[str, int]],
        *,
        request_id: str | None = None,
        role: int | None = None,
        **fields: object,
    ) -> pb.Order:
        order = pb.Order(
            channel=pb.SALES_CHANNEL_WEB_SHOP,
            warehouse=warehouse,
            lines=[pb.OrderLine(sku=s, quantity=q) for s, q in lines],
            **fields,  # type: ignore[arg-type]
        )
        response = self.orders.CreateOrder(
            pb.CreateOrderRequest(request_id=request_id or new_id(), order=order),
            metadata=self.as_role(role) if role else self.as_role(),
            timeout=15,
        )
        return response.order

    def archive(self, sku: str) -> None:
        catalog = catalog_pb2_grpc.CatalogServiceStub(self.catalog_channel)
        found = catalog.BatchGetVariants(
            catalog_pb2.BatchGetVariantsRequest(skus=[sku]), metadata=self.as_role(), timeout=10
        )
        catalog.ArchiveVariant(
            catalog_pb2.ArchiveVariantRequest(request_id=new_id(), name=found.variants[0].name),
            metadata=self.as_role(),
            timeout=10,
        )

    def sale(self, external_id: str, warehouse: str, lines: list[tuple[str, int]], sold: int) -> pb.Sale:
        return pb.Sale(
            external_id=external_id,
            warehouse=warehouse,
            lines=[pb.SaleLine(sku=s, quantity=q) for s, q in lines],
            sold_time=timestamp_pb2.Timestamp(seconds=sold),
        )


def eur(units: int, nanos: int = 0) -> money_pb2.Money:
    return money_pb2.Money(currency_code="EUR", units=units, nanos=nanos)


def shop_of(order: harness.ServiceProcess, stacks: Stacks) -> Iterator[Shop]:
    user = stacks.user(BACKEND)
    catalog = stacks.service("catalog", BACKEND)
    stock = stock_stack(stacks, BACKEND)
    slug, email = create_tenant(user.database_url)
    with user.channel() as u, catalog.channel() as c, stock.channel() as s, order.channel() as o:
        yield Shop(Tenant(slug, email, u), c, s, stock, user.database_url, order_channel=o)


@pytest.fixture(scope="session")
def order_service(stacks: Stacks) -> harness.ServiceProcess:
    return order_stack(stacks)


@pytest.fixture
def shop(order_service: harness.ServiceProcess, stacks: Stacks) -> Iterator[Shop]:
    yield from shop_of(order_service, stacks)
