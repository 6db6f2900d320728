"""The low-stock gauge: per tenant and warehouse, how many levels are at or
below their reorder point, as of the last count; a warehouse whose last low
level was restocked reads 0, not its old count."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge

from svc_stock import commands
from svc_stock.usecases.gauges import LowStockGauge
from tests.fakes.stock import units
from tests.unit.stock.conftest import MANAGER, TENANT, Shop


def reading(registry: CollectorRegistry, warehouse: str) -> float | None:
    return registry.get_sample_value("low_levels_test", {"tenant": TENANT, "warehouse": warehouse})


async def test_the_gauge_counts_low_levels_per_warehouse_and_returns_to_zero(shop: Shop) -> None:
    registry = CollectorRegistry()
    gauge = LowStockGauge(
        units(shop.clock, shop.memory),
        Gauge("low_levels_test", "test", ["tenant", "warehouse"], registry=registry),
    )
    north, south = await shop.warehouse(), await shop.warehouse()
    for warehouse, sku, on_hand in ((north, "A", 2), (north, "B", 9), (north, "C", 1), (south, "A", 50)):
        await shop.receive(warehouse, sku, on_hand)
        policy = commands.SetReorderPolicy(warehouse, sku, 3, 10, "")
        await shop.levels.set_reorder_policy(MANAGER, f"p-{warehouse}-{sku}", policy)

    await gauge.refresh()
    assert reading(registry, north) == 2  # A and C; B has 9 over a reorder point of 3
    assert reading(registry, south) is None  # never low: no series at all

    await shop.receive(north, "A", 10)
    await shop.receive(north, "C", 10)
    await gauge.refresh()
    assert reading(registry, north) == 0
