"""svc_stock with real neighbours: svc_user for tokens, svc_catalog for SKUs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import grpc
import pytest
from google.type import money_pb2

from stockmesh.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from stockmesh.stock.v1 import stock_pb2 as pb
from stockmesh.stock.v1 import stock_pb2_grpc
from stockmesh.user.v1 import user_pb2
from tests import harness
from tests.conftest import Stacks, Tenant, create_tenant, new_id

FAST = {
    "STOCKMESH_STOCK_SWEEP_SECONDS": "0.2",
    "STOCKMESH_STOCK_WATCH_POLL_SECONDS": "0.05",
    "STOCKMESH_STOCK_WATCH_HEARTBEAT_SECONDS": "1",
    "STOCKMESH_STOCK_LOW_STOCK_GAUGE_SECONDS": "0.5",
}

# Streams that stay silent for a minute (no heartbeat and, on PostgreSQL, no
# re-check of the ledger), so only a notification can bring a change at once;
# queues of four changes, so a stream falls behind with one receipt.
QUIET = {
    "STOCKMESH_STOCK_WATCH_HEARTBEAT_SECONDS": "60",
    "STOCKMESH_STOCK_WATCH_QUEUE_SIZE": "4",
}


def stock_stack(
    stacks: Stacks, backend: str, *, variant: str = "", **settings: str
) -> harness.ServiceProcess:
    user = stacks.user(backend)
    catalog = stacks.service("catalog", backend, env={"STOCKMESH_USER_ADDR": user.address})
    return stacks.service(
        "stock",
        backend,
        env={
            "STOCKMESH_USER_ADDR": user.address,
            "STOCKMESH_CATALOG_ADDR": catalog.address,
            **FAST,
            **settings,
        },
        variant=variant,
    )


@pytest.fixture(scope="session")
def stock_service(stacks: Stacks, backend: str) -> harness.ServiceProcess:
    return stock_stack(stacks, backend)


@pytest.fixture(scope="session")
def pg_stock_service(stacks: Stacks) -> harness.ServiceProcess:
    return stock_stack(stacks, "postgresql")


@dataclass
class World:
    """A fresh tenant with channels to svc_user, svc_catalog and svc_stock."""

    tenant: Tenant
    catalog_channel: grpc.Channel
    stock_channel: grpc.Channel
    stock: harness.ServiceProcess
    user_database_url: str
    tokens: dict[int, list[tuple[str, str]]] = field(default_factory=dict)

    def other_tenant(self) -> World:
        """Another tenant on the same services."""
        slug, email = create_tenant(self.user_database_url)
        return World(
            Tenant(slug, email, self.tenant.channel),
            self.catalog_channel,
            self.stock_channel,
            self.stock,
            self.user_database_url,
        )

    def as_role(self, role: int = user_pb2.ROLE_ADMIN) -> list[tuple[str, str]]:
        if role not in self.tokens:
            email = None if role == user_pb2.ROLE_ADMIN else self.tenant.add_user(role)
            self.tokens[role] = self.tenant.bearer(email)
        return self.tokens[role]

    @property
    def warehouses(self) -> stock_pb2_grpc.WarehouseServiceStub:
        return stock_pb2_grpc.WarehouseServiceStub(self.stock_channel)

    @property
    def levels(self) -> stock_pb2_grpc.StockServiceStub:
        return stock_pb2_grpc.StockServiceStub(self.stock_channel)

    @property
    def reservations(self) -> stock_pb2_grpc.ReservationServiceStub:
        return stock_pb2_grpc.ReservationServiceStub(self.stock_channel)

    def skus(self, count: int = 1) -> list[str]:
        """SKUs the catalog knows, as variants of one new product."""
        skus = [f"SKU-{uuid.uuid4().hex[:10].upper()}" for _ in range(count)]
        catalog_pb2_grpc.CatalogServiceStub(self.catalog_channel).CreateProduct(
            catalog_pb2.CreateProductRequest(
                request_id=new_id(),
                product=catalog_pb2.Product(
                    display_name="Test product",
                    variants=[
                        catalog_pb2.Variant(sku=sku, list_price=money_pb2.Money(currency_code="EUR", units=5))
                        for sku in skus
                    ],
                ),
            ),
            metadata=self.as_role(),
            timeout=10,
        )
        return skus

    def warehouse(self, code: str | None = None) -> str:
        created = self.warehouses.CreateWarehouse(
            pb.CreateWarehouseRequest(
                request_id=new_id(),
                warehouse=pb.Warehouse(code=code or f"W{uuid.uuid4().hex[:6].upper()}", display_name="Main"),
            ),
            metadata=self.as_role(),
            timeout=10,
        )
        return created.warehouse.name

    def receive(self, warehouse: str, sku: str, quantity: int) -> pb.ReceiveStockResponse:
        response: pb.ReceiveStockResponse = self.levels.ReceiveStock(
            pb.ReceiveStockRequest(
                request_id=new_id(), warehouse=warehouse, lines=[pb.StockLine(sku=sku, quantity=quantity)]
            ),
            metadata=self.as_role(),
            timeout=10,
        )
        return response

    def set_reorder_policy(self, warehouse: str, sku: str, point: int, quantity: int) -> None:
        self.levels.SetReorderPolicy(
            pb.SetReorderPolicyRequest(
                request_id=new_id(),
                name=f"{warehouse}/stockLevels/{sku}",
                reorder_point=point,
                reorder_quantity=quantity,
            ),
            metadata=self.as_role(),
            timeout=10,
        )

    def level(self, warehouse: str, sku: str) -> pb.StockLevel:
        response = self.levels.GetStockLevel(
            pb.GetStockLevelRequest(name=f"{warehouse}/stockLevels/{sku}"),
            metadata=self.as_role(),
            timeout=10,
        )
        return response.stock_level

    def reserve(
        self, lines: list[tuple[str, str, int]], *, request_id: str | None = None, ttl_seconds: int = 0
    ) -> pb.CreateReservationResponse:
        reservation = pb.Reservation(
            reference=f"orders/{uuid.uuid4().hex[:8]}",
            lines=[pb.ReservationLine(warehouse=w, sku=s, quantity=q) for w, s, q in lines],
        )
        if ttl_seconds:
            reservation.ttl.FromSeconds(ttl_seconds)
        response: pb.CreateReservationResponse = self.reservations.CreateReservation(
            pb.CreateReservationRequest(request_id=request_id or new_id(), reservation=reservation),
            metadata=self.as_role(),
            timeout=10,
        )
        return response


def world_of(stock: harness.ServiceProcess, stacks: Stacks, backend: str) -> Iterator[World]:
    user = stacks.user(backend)
    catalog = stacks.service("catalog", backend)
    slug, email = create_tenant(user.database_url)
    with user.channel() as u, catalog.channel() as c, stock.channel() as s:
        yield World(Tenant(slug, email, u), c, s, stock, user.database_url)


@pytest.fixture(scope="session")
def unswept_stock_service(stacks: Stacks) -> harness.ServiceProcess:
    """svc_stock whose expiry sweeper practically never runs."""
    return stock_stack(stacks, "sqlite", variant="-unswept", STOCKMESH_STOCK_SWEEP_SECONDS="3600")


@pytest.fixture
def unswept_world(unswept_stock_service: harness.ServiceProcess, stacks: Stacks) -> Iterator[World]:
    yield from world_of(unswept_stock_service, stacks, "sqlite")


@pytest.fixture(scope="session")
def quiet_stock_service(stacks: Stacks, backend: str) -> harness.ServiceProcess:
    return stock_stack(stacks, backend, variant="-quiet", **QUIET)


@pytest.fixture
def quiet_world(quiet_stock_service: harness.ServiceProcess, stacks: Stacks, backend: str) -> Iterator[World]:
    yield from world_of(quiet_stock_service, stacks, backend)


@pytest.fixture
def pg_quiet_world(stacks: Stacks) -> Iterator[World]:
    yield from world_of(stock_stack(stacks, "postgresql", variant="-quiet", **QUIET), stacks, "postgresql")


@pytest.fixture
def world(stock_service: harness.ServiceProcess, stacks: Stacks, backend: str) -> Iterator[World]:
    yield from world_of(stock_service, stacks, backend)


@pytest.fixture
def pg_world(pg_stock_service: harness.ServiceProcess, stacks: Stacks) -> Iterator[World]:
    yield from world_of(pg_stock_service, stacks, "postgresql")
