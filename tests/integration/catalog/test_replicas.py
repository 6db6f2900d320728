"""Two svc_catalog processes on one database and one Redis, as two replicas
behind a load balancer: after a write through one, the other never serves
the old entry; not even when the writer could not reach Redis to delete it
(then within kit.cache's stated bound, SYNC_SECONDS)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from kit.cache import SYNC_SECONDS
from tests import harness
from tests.conftest import Tenant
from tests.integration.catalog.conftest import Shop, open_shop, variant
from tests.integration.catalog.test_cache import hits, rename
from tests.support.tcp_proxy import TcpProxy


@dataclass
class Replicas:
    a: harness.ServiceProcess  # reaches Redis through a proxy the test can cut
    b: harness.ServiceProcess  # reaches Redis directly
    a_to_redis: TcpProxy


@pytest.fixture(scope="module")
def replicas(
    backend: str,
    user_service: harness.ServiceProcess,
    tls_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
    cache_prefix: str,
) -> Iterator[Replicas]:
    home = tmp_path_factory.mktemp(f"catalog-replicas-{backend}")
    with contextlib.ExitStack() as stack:
        if backend == "sqlite":
            url = f"sqlite:///{home / 'catalog.db'}"
        else:
            url = stack.enter_context(harness.postgres_database())
        proxy = TcpProxy("127.0.0.1", 6379)
        stack.callback(proxy.close)
        through_proxy = f"redis://127.0.0.1:{proxy.start()}/15"
        shared = {"STOCKMESH_USER_ADDR": user_service.address, "STOCKMESH_CATALOG_CACHE_PREFIX": cache_prefix}
        started = []
        for name, redis_url in (("a", through_proxy), ("b", harness.REDIS)):
            (home / name).mkdir()
            service = harness.ServiceProcess(
                "catalog", home / name, tls_dir, url, env={**shared, "REDIS_URL": redis_url}
            )
            service.start()
            stack.callback(service.stop)
            started.append(service)
        yield Replicas(started[0], started[1], proxy)


@pytest.fixture
def shops(tenant: Tenant, replicas: Replicas) -> Iterator[tuple[Shop, Shop]]:
    """The same tenant on replica A and on replica B."""
    for on_a in open_shop(tenant, replicas.a):
        for on_b in open_shop(tenant, replicas.b):
            yield on_a, on_b


def test_a_write_through_one_replica_is_read_at_once_through_the_other(
    shops: tuple[Shop, Shop], replicas: Replicas
) -> None:
    on_a, on_b = shops
    product = on_a.create_product(variant("REP-1"), display_name="Before")
    on_b.get_product(product.name)
    hits_before = hits(replicas.b)
    assert on_b.get_product(product.name).display_name == "Before"
    assert on_b.lookup_sku("REP-1").product.display_name == "Before"  # filled by this read
    assert hits(replicas.b) == hits_before + 1  # "Before" sits in the shared Redis

    renamed = rename(on_a, product, "After")

    assert on_b.get_product(product.name) == renamed
    assert on_b.lookup_sku("REP-1").product.display_name == "After"


def test_a_write_whose_delete_missed_redis_still_reaches_the_other_replica(
    shops: tuple[Shop, Shop], replicas: Replicas, cache_prefix: str
) -> None:
    on_a, on_b = shops
    product = on_a.create_product(variant("MISS-1"), display_name="Cached")
    on_b.get_product(product.name)
    hits_before = hits(replicas.b)
    assert on_b.get_product(product.name).display_name == "Cached"
    assert hits(replicas.b) == hits_before + 1  # "Cached" sits in the shared Redis

    replicas.a_to_redis.cut()
    try:
        renamed = rename(on_a, product, "Changed while A could not reach Redis")  # A's delete fails
        written = time.monotonic()
        assert on_a.get_product(product.name) == renamed  # A answers from the database

        # The stated bound, and nothing more: from then on B never serves "Cached".
        time.sleep(max(0.0, written + SYNC_SECONDS - time.monotonic()))
        hits_after_write = hits(replicas.b)
        for _ in range(5):
            assert on_b.get_product(product.name) == renamed
        assert hits(replicas.b) >= hits_after_write + 3  # B refilled the entry and serves it from Redis

        client = redis.Redis.from_url(harness.REDIS)
        key = f"{cache_prefix}catalog:{on_b.tenant_id}:product:{product.name.removeprefix('products/')}"
        assert b"Changed while A could not reach Redis" in (client.get(key) or b"")
        client.close()
    finally:
        replicas.a_to_redis.restore()
