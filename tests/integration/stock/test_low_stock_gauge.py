"""The low-stock gauge over a real svc_stock on both databases: the metrics
endpoint counts a warehouse's low levels, as the alert on stock below its
reorder point reads them."""

from __future__ import annotations

import re
import time

import httpx

from tests.integration.stock.conftest import World


def low_levels(world: World, warehouse: str) -> float | None:
    text = httpx.get(f"http://127.0.0.1:{world.stock.metrics_port}/metrics", timeout=5).text
    label = re.escape(warehouse.removeprefix("warehouses/"))
    found = re.search(rf'^stockmesh_stock_low_levels{{[^}}]*warehouse="{label}"[^}}]*}} (\S+)$', text, re.M)
    return float(found.group(1)) if found else None


def test_the_metrics_endpoint_counts_a_warehouses_low_levels(world: World) -> None:
    warehouse, skus = world.warehouse(), world.skus(3)
    for sku, on_hand in zip(skus, (1, 4, 50), strict=True):
        world.receive(warehouse, sku, on_hand)
        world.set_reorder_policy(warehouse, sku, 5, 20)

    deadline = time.monotonic() + 10
    while low_levels(world, warehouse) != 2:
        assert time.monotonic() < deadline, f"the gauge read {low_levels(world, warehouse)}, not 2"
        time.sleep(0.2)
