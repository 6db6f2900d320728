"""What svc_procure needs of svc_stock: warehouses, low levels, demand, receipts.

A port, so use cases depend on the questions, not on gRPC; app.py plugs in
the shared gRPC client (clients.stock.client).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from clients.stock import Demand, LowLevel


class StockLedger(Protocol):
    async def warehouse_active(self, warehouse_id: str) -> bool | None:
        """True if active, False if archived, None if the caller's tenant has no such warehouse."""
        ...

    async def low_levels(self, warehouse_id: str) -> list[LowLevel]:
        """Every level of the warehouse at or below its reorder point."""
        ...

    async def demand(self, warehouse_id: str, skus: Sequence[str], start: datetime) -> dict[str, Demand]:
        """Shipped and returned per SKU since `start`."""
        ...

    async def receive(
        self,
        request_id: str,
        warehouse_id: str,
        lines: Sequence[tuple[str, int]],
        reference: str,
    ) -> list[str]:
        """Books a receipt (exactly once per request_id); the movement names."""
        ...
