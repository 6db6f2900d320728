"""The system under test at one size: svc_user, svc_catalog, svc_stock and
svc_procure, each its own process on its own new PostgreSQL database, migrated
by its own start-up, and the signed-in admin every call is made as."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import psycopg

from stockmesh.catalog.v1 import catalog_pb2_grpc
from stockmesh.procure.v1 import procure_pb2_grpc
from stockmesh.stock.v1 import stock_pb2 as stock_pb
from stockmesh.stock.v1 import stock_pb2_grpc
from stockmesh.user.v1 import user_pb2, user_pb2_grpc
from tests import harness
from tests.conftest import PASSWORD, create_tenant

SERVICES = ("user", "catalog", "stock", "procure")
PEERS = {"catalog": ("user",), "stock": ("user", "catalog"), "procure": ("user", "catalog", "stock")}
# Production settings, except: spans are not exported (the cluster exports them
# in batches, off the request path), the catalog runs without its Redis cache
# (every read reaches the database, which is what grows), and access tokens
# outlive the run.
QUIET = {"STOCKMESH_TRACES_FILE": "", "STOCKMESH_HEALTH_PROBE_SECONDS": "2", "REDIS_URL": ""}
OWN = {"user": {"STOCKMESH_USER_ACCESS_TOKEN_SECONDS": "7200"}}
WAREHOUSE_CODE = "STORE-0001"


@dataclass(frozen=True)
class Admin:
    token: str
    tenant_id: str
    user_id: str


@dataclass
class Stack:
    size: int
    services: dict[str, harness.ServiceProcess]
    admin: Admin
    warehouse_id: str
    channels: contextlib.ExitStack

    @property
    def warehouse(self) -> str:
        return f"warehouses/{self.warehouse_id}"

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.admin.token}"),)

    def url(self, service: str) -> str:
        return self.services[service].database_url

    def stubs(self) -> dict[str, Any]:
        """One blocking stub per measured service, on channels kept open for the run."""
        catalog, stock, procure = (
            self.channels.enter_context(self.services[name].channel())
            for name in ("catalog", "stock", "procure")
        )
        return {
            "catalog": catalog_pb2_grpc.CatalogServiceStub(catalog),
            "stock": stock_pb2_grpc.StockServiceStub(stock),
            "procure": procure_pb2_grpc.ReplenishmentServiceStub(procure),
        }


@contextlib.contextmanager
def database(label: str, keep: bool) -> Iterator[str]:
    """A new, empty database; dropped afterwards unless `keep`."""
    if not keep:
        with harness.postgres_database() as url:
            yield url
        return
    name = f"scale_{label}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(harness.POSTGRES, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{harness.POSTGRES.rsplit('/', 1)[0]}/{name}"


@contextlib.contextmanager
def started(size: int, home: Path, tls_dir: Path, *, keep: bool) -> Iterator[Stack]:
    with contextlib.ExitStack() as exits:
        services: dict[str, harness.ServiceProcess] = {}
        for name in SERVICES:
            url = exits.enter_context(database(f"{name}_{size}", keep))
            peers = {f"STOCKMESH_{p.upper()}_ADDR": services[p].address for p in PEERS.get(name, ())}
            service = harness.ServiceProcess(
                name, home, tls_dir, url, env={**QUIET, **OWN.get(name, {}), **peers}
            )
            services[name] = service.start()
            exits.callback(service.stop)
        admin = sign_in(services["user"])
        warehouse_id = create_warehouse(services["stock"], admin)
        channels = exits.enter_context(contextlib.ExitStack())
        yield Stack(size, services, admin, warehouse_id, channels)
        if keep:
            print("kept databases: " + ", ".join(s.database_url for s in services.values()))


def sign_in(user: harness.ServiceProcess) -> Admin:
    """A new tenant and its admin, signed in as `make admin` and a login would."""
    slug, email = create_tenant(user.database_url)
    with user.channel() as channel:
        login = user_pb2_grpc.AuthServiceStub(channel).Login(
            user_pb2.LoginRequest(request_id=str(uuid.uuid4()), tenant=slug, email=email, password=PASSWORD),
            timeout=10,
        )
    return Admin(
        token=login.tokens.access_token,
        tenant_id=login.user.tenant.removeprefix("tenants/"),
        user_id=login.user.name.removeprefix("users/"),
    )


def create_warehouse(stock: harness.ServiceProcess, admin: Admin) -> str:
    request = stock_pb.CreateWarehouseRequest(
        request_id=str(uuid.uuid4()),
        warehouse=stock_pb.Warehouse(code=WAREHOUSE_CODE, display_name="Store 1, Main Street"),
    )
    with stock.channel() as channel:
        reply = stock_pb2_grpc.WarehouseServiceStub(channel).CreateWarehouse(
            request, metadata=(("authorization", f"Bearer {admin.token}"),), timeout=10
        )
    return str(reply.warehouse.name.removeprefix("warehouses/"))


def rpc_error(exc: grpc.RpcError) -> str:
    code = exc.code() if isinstance(exc, grpc.Call) else None
    details = exc.details() if isinstance(exc, grpc.Call) else str(exc)
    return f"{code.name if code else 'ERROR'}: {details}"
