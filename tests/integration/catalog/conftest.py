"""svc_catalog as a real process per backend: its own database, tokens verified
with svc_user's JWKS over mTLS, reads cached in the real Redis under a key
prefix of this run (removed at the end; other tests share that Redis)."""

from __future__ import annotations

import contextlib
import re
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
import redis
from google.protobuf import field_mask_pb2
from google.type import money_pb2

from stockmesh.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from stockmesh.user.v1 import user_pb2
from tests import harness
from tests.conftest import Tenant, new_id


@pytest.fixture(scope="session")
def cache_prefix() -> Iterator[str]:
    harness.require_redis()
    prefix = f"test-{uuid.uuid4().hex[:12]}:"
    yield prefix
    forget(prefix)


def forget(prefix: str) -> None:
    """Delete this run's keys, and only those."""
    client = redis.Redis.from_url(harness.REDIS)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def start_catalog(
    backend: str,
    user_service: harness.ServiceProcess,
    tls_dir: Path,
    home: Path,
    redis_url: str | None,
    prefix: str,
) -> Iterator[harness.ServiceProcess]:
    """svc_catalog on a database of its own, stopped (and the database dropped) afterwards."""
    with contextlib.ExitStack() as stack:
        if backend == "sqlite":
            url = f"sqlite:///{home / 'catalog.db'}"
        else:
            url = stack.enter_context(harness.postgres_database())
        env = {"STOCKMESH_USER_ADDR": user_service.address, "STOCKMESH_CATALOG_CACHE_PREFIX": prefix}
        if redis_url:
            env["REDIS_URL"] = redis_url
        service = harness.ServiceProcess("catalog", home, tls_dir, url, env=env)
        service.start()
        stack.callback(service.stop)
        yield service


@pytest.fixture(scope="session")
def catalog_service(
    backend: str,
    user_service: harness.ServiceProcess,
    tls_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
    cache_prefix: str,
) -> Iterator[harness.ServiceProcess]:
    home = tmp_path_factory.mktemp(f"catalog-{backend}")
    yield from start_catalog(backend, user_service, tls_dir, home, harness.REDIS, cache_prefix)


def money(units: int, nanos: int = 0, currency: str = "EUR") -> money_pb2.Money:
    return money_pb2.Money(currency_code=currency, units=units, nanos=nanos)


def variant(sku: str, *, barcode: str = "", units: int = 10, **fields: Any) -> catalog_pb2.Variant:
    return catalog_pb2.Variant(sku=sku, barcode=barcode, list_price=money(units), **fields)


@dataclass
class Shop:
    """A fresh tenant on svc_catalog, with one token per role it has used."""

    tenant: Tenant
    channel: grpc.Channel
    service: harness.ServiceProcess
    tokens: dict[int, list[tuple[str, str]]] = field(default_factory=dict)

    @property
    def catalog(self) -> catalog_pb2_grpc.CatalogServiceStub:
        return catalog_pb2_grpc.CatalogServiceStub(self.channel)

    @property
    def tenant_id(self) -> str:
        return self.tenant.login().user.tenant.removeprefix("tenants/")

    def as_role(self, role: int = user_pb2.ROLE_ADMIN) -> list[tuple[str, str]]:
        if role not in self.tokens:
            email = None if role == user_pb2.ROLE_ADMIN else self.tenant.add_user(role)
            self.tokens[role] = self.tenant.bearer(email)
        return self.tokens[role]

    def call(self, rpc: str, request: Any, role: int = user_pb2.ROLE_ADMIN) -> Any:
        return getattr(self.catalog, rpc)(request, metadata=self.as_role(role), timeout=10)

    def create_product(
        self,
        *variants: catalog_pb2.Variant,
        request_id: str | None = None,
        role: int = user_pb2.ROLE_ADMIN,
        **fields: Any,
    ) -> catalog_pb2.Product:
        fields.setdefault("display_name", "Trail shoe")
        request = catalog_pb2.CreateProductRequest(
            request_id=request_id or new_id(), product=catalog_pb2.Product(variants=variants, **fields)
        )
        return self.call("CreateProduct", request, role).product

    def get_product(self, name: str, role: int = user_pb2.ROLE_ADMIN) -> catalog_pb2.Product:
        return self.call("GetProduct", catalog_pb2.GetProductRequest(name=name), role).product

    def lookup_sku(self, sku: str) -> catalog_pb2.LookupSkuResponse:
        return self.call("LookupSku", catalog_pb2.LookupSkuRequest(sku=sku))

    def update_product(
        self, product: catalog_pb2.Product, paths: list[str], **fields: Any
    ) -> catalog_pb2.Product:
        request = catalog_pb2.UpdateProductRequest(
            request_id=new_id(),
            product=catalog_pb2.Product(**fields),
            update_mask=field_mask_pb2.FieldMask(paths=paths),
        )
        request.product.name = product.name
        return self.call("UpdateProduct", request).product

    def update_variant(self, name: str, paths: list[str], **fields: Any) -> catalog_pb2.Variant:
        request = catalog_pb2.UpdateVariantRequest(
            request_id=new_id(),
            variant=catalog_pb2.Variant(name=name, **fields),
            update_mask=field_mask_pb2.FieldMask(paths=paths),
        )
        return self.call("UpdateVariant", request).variant


def open_shop(tenant: Tenant, service: harness.ServiceProcess) -> Iterator[Shop]:
    with service.channel() as channel:
        yield Shop(tenant, channel, service)


@pytest.fixture
def shop(tenant: Tenant, catalog_service: harness.ServiceProcess) -> Iterator[Shop]:
    yield from open_shop(tenant, catalog_service)


@pytest.fixture
def other_shop(other_tenant: Tenant, catalog_service: harness.ServiceProcess) -> Iterator[Shop]:
    yield from open_shop(other_tenant, catalog_service)


def metric(service: harness.ServiceProcess, name: str, **labels: str) -> float:
    """One sample of the service's Prometheus endpoint (0 when absent)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{service.metrics_port}/metrics", timeout=5) as response:
        text = response.read().decode()
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = re.escape(f"{name}{{{wanted}}}" if labels else name) + r" ([0-9.e+-]+)"
    found = re.search(f"^{pattern}$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0
