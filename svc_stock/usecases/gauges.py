"""Business gauges for Prometheus: how many levels are low, per tenant and
warehouse, counted from the levels themselves every period (a background
loop), so an alert can say that a warehouse has stock below its reorder
point without anyone asking for the low-stock list."""

from __future__ import annotations

from prometheus_client import Gauge

from kit.uow import Units
from svc_stock.ports import StockUnit

low_levels = Gauge(
    "stockmesh_stock_low_levels",
    "Stock levels at or below their reorder point (with a reorder quantity set), per tenant and"
    " warehouse, as of the last count (STOCKMESH_STOCK_LOW_STOCK_GAUGE_SECONDS).",
    ["tenant", "warehouse"],
)


class LowStockGauge:
    def __init__(self, units: Units[StockUnit], gauge: Gauge = low_levels) -> None:
        self.units = units
        self.gauge = gauge
        self.shown: set[tuple[str, str]] = set()

    async def refresh(self) -> None:
        async with self.units.read() as uow:
            counts = await uow.levels.low_counts()
        for tenant, warehouse in self.shown - counts.keys():
            # A warehouse with no low level left reads 0, not its last count.
            self.gauge.labels(tenant=tenant, warehouse=warehouse).set(0)
        for (tenant, warehouse), count in counts.items():
            self.gauge.labels(tenant=tenant, warehouse=warehouse).set(count)
        self.shown |= counts.keys()
