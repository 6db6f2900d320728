"""Reads are cached in the real Redis and never stale after a write; with Redis
unreachable, from the start or cut mid-run, every call still answers right."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from kit.cache import Cache
from stockmesh.catalog.v1 import catalog_pb2
from tests import harness
from tests.conftest import Tenant, new_id
from tests.integration.catalog.conftest import Shop, metric, money, open_shop, start_catalog, variant
from tests.support.tcp_proxy import TcpProxy

PAUSE_AFTER_FAILURE = 1.1  # kit.cache leaves Redis alone for a second after a failure


def hits(service: harness.ServiceProcess) -> float:
    return metric(service, "stockmesh_cache_requests_total", result="hit")


def cache_errors(service: harness.ServiceProcess) -> float:
    operations = ("lookup", "fill", "invalidate")
    return sum(metric(service, "stockmesh_cache_errors_total", operation=op) for op in operations)


def rename(shop: Shop, product: catalog_pb2.Product, name: str) -> catalog_pb2.Product:
    return shop.update_product(product, ["display_name"], display_name=name)


def test_a_second_read_is_served_from_redis(shop: Shop, cache_prefix: str) -> None:
    product = shop.create_product(variant("HIT-1", barcode="96385074"))
    before = hits(shop.service)

    first = shop.get_product(product.name)
    second = shop.get_product(product.name)
    shop.lookup_sku("HIT-1")
    shop.lookup_sku("HIT-1")

    assert first == second == product
    assert hits(shop.service) - before == 2
    client = redis.Redis.from_url(harness.REDIS)
    product_id = product.name.removeprefix("products/")
    base = f"{cache_prefix}catalog:{shop.tenant_id}"
    assert client.exists(f"{base}:product:{product_id}", f"{base}:sku:HIT-1") == 2
    assert 0 < client.ttl(f"{base}:product:{product_id}") <= 300
    client.close()


def test_every_read_after_a_write_sees_the_write(shop: Shop) -> None:
    product = shop.create_product(variant("FRESH-1", barcode="036000291452"), display_name="v0")
    sku_variant = product.variants[0]
    stop = threading.Event()

    def read_all_the_time() -> None:  # readers racing the writer, to fill the cache at bad moments
        while not stop.is_set():
            shop.get_product(product.name)
            shop.lookup_sku("FRESH-1")

    readers = [threading.Thread(target=read_all_the_time) for _ in range(3)]
    for reader in readers:
        reader.start()
    try:
        for n in range(1, 11):
            product = rename(shop, product, f"v{n}")
            assert shop.get_product(product.name).display_name == f"v{n}"
            assert shop.lookup_sku("FRESH-1").product.display_name == f"v{n}"
            assert shop.lookup_sku("FRESH-1").variant.product_display_name == f"v{n}"
        updated = shop.update_variant(
            sku_variant.name, ["list_price", "barcode"], list_price=money(99), barcode="96385074"
        )
        assert shop.lookup_sku("FRESH-1").variant.list_price == money(99)
        assert shop.get_product(product.name).variants[0] == updated
        assert (
            harness.refused(
                shop.call, "LookupBarcode", catalog_pb2.LookupBarcodeRequest(barcode="036000291452")
            ).code.name
            == "NOT_FOUND"
        )
        assert (
            shop.call("LookupBarcode", catalog_pb2.LookupBarcodeRequest(barcode="96385074")).variant
            == updated
        )
    finally:
        stop.set()
        for reader in readers:
            reader.join()


def exercise(shop: Shop) -> None:
    """A round of writes and reads whose answers must all be right."""
    product = shop.create_product(variant("DOWN-1"), display_name="Before")
    assert shop.get_product(product.name) == product
    assert shop.get_product(product.name) == product
    renamed = rename(shop, product, "After")
    assert shop.get_product(product.name) == renamed
    assert shop.lookup_sku("DOWN-1").product.display_name == "After"
    batch = shop.call("BatchGetVariants", catalog_pb2.BatchGetVariantsRequest(skus=["DOWN-1", "NONE-1"]))
    assert [v.sku for v in batch.variants] == ["DOWN-1"]


@pytest.fixture
def catalog_without_redis(
    backend: str,
    user_service: harness.ServiceProcess,
    tls_dir: Path,
    tmp_path: Path,
    cache_prefix: str,
) -> Iterator[harness.ServiceProcess]:
    nobody_listens = f"redis://127.0.0.1:{harness.free_port()}/15"
    yield from start_catalog(backend, user_service, tls_dir, tmp_path, nobody_listens, cache_prefix)


def test_with_redis_unreachable_from_the_start_every_call_answers_from_the_database(
    tenant: Tenant, catalog_without_redis: harness.ServiceProcess
) -> None:
    for shop in open_shop(tenant, catalog_without_redis):
        started = time.monotonic()
        exercise(shop)
        elapsed = time.monotonic() - started

        assert cache_errors(catalog_without_redis) > 0
        assert hits(catalog_without_redis) == 0
        assert elapsed < 5  # a dead Redis costs milliseconds, not timeouts per call


@pytest.fixture
def redis_behind_a_proxy() -> Iterator[tuple[str, TcpProxy]]:
    harness.require_redis()
    proxy = TcpProxy("127.0.0.1", 6379)
    port = proxy.start()
    yield f"redis://127.0.0.1:{port}/15", proxy
    proxy.close()


@pytest.fixture
def catalog_with_flaky_redis(
    backend: str,
    user_service: harness.ServiceProcess,
    tls_dir: Path,
    tmp_path: Path,
    cache_prefix: str,
    redis_behind_a_proxy: tuple[str, TcpProxy],
) -> Iterator[tuple[harness.ServiceProcess, TcpProxy]]:
    url, proxy = redis_behind_a_proxy
    for service in start_catalog(backend, user_service, tls_dir, tmp_path, url, cache_prefix):
        yield service, proxy


def test_with_redis_cut_mid_run_every_call_answers_and_no_stale_value_survives(
    tenant: Tenant, catalog_with_flaky_redis: tuple[harness.ServiceProcess, TcpProxy]
) -> None:
    service, proxy = catalog_with_flaky_redis
    for shop in open_shop(tenant, service):
        product = shop.create_product(variant("CUT-1"), display_name="Cached")
        shop.get_product(product.name)
        hits_before = hits(service)
        assert shop.get_product(product.name).display_name == "Cached"
        assert hits(service) == hits_before + 1  # "Cached" now sits in Redis

        proxy.cut()
        errors_before = cache_errors(service)
        renamed = rename(shop, product, "Changed while Redis was away")  # its invalidation fails
        assert shop.get_product(product.name) == renamed
        exercise(shop)
        assert cache_errors(service) > errors_before

        proxy.restore()
        time.sleep(PAUSE_AFTER_FAILURE)
        assert shop.get_product(product.name) == renamed  # the missed invalidation was made up for
        assert shop.get_product(product.name) == renamed
        assert hits(service) > hits_before + 1  # and the cache serves again


def test_a_fill_that_read_before_a_write_committed_is_dropped(cache_prefix: str) -> None:
    key = f"{cache_prefix}spec:tenant:product:{new_id()}"

    async def scenario() -> tuple[dict[str, bytes], dict[str, bytes], dict[str, bytes]]:
        cache = Cache(harness.REDIS, service="spec")
        try:
            slow_reader = await cache.lookup([key])  # a miss: this reader holds the lease...
            other_reader = await cache.lookup([key])  # ...so a second reader may not fill
            await cache.invalidate([key])  # a writer commits and invalidates meanwhile
            await cache.fill(other_reader, {key: b"old"})
            await cache.fill(slow_reader, {key: b"old"})  # read before the write: dropped
            fresh_reader = await cache.lookup([key])  # still a miss; reads the new row
            await cache.fill(fresh_reader, {key: b"new"})
            return slow_reader.hits, fresh_reader.hits, (await cache.lookup([key])).hits
        finally:
            await cache.close()

    first, after_write, last = harness.run_async(scenario)

    assert first == after_write == {}
    assert last == {key: b"new"}


def test_without_a_redis_url_the_cache_stores_nothing() -> None:
    async def scenario() -> dict[str, bytes]:
        cache = Cache(None, service="spec")
        found = await cache.lookup(["k"])
        await cache.fill(found, {"k": b"v"})
        await cache.invalidate(["k"])
        return (await cache.lookup(["k"])).hits

    assert harness.run_async(scenario) == {}
