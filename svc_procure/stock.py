"""What svc_procure needs of svc_stock: warehouses, low levels, demand, receipts.

A port, so use cases depend on the questions, not on gRPC; app.py plugs in
the shared gRPC client (clients.stock.client).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Protocol

from clients.stock import Demand, LowLevel


class StockLedger(Protocol):
    async def warehouse_active(self, warehouse_id: str) -> bool | None:
        """True if active, False if archived, None if the caller's tenant has no such warehouse."""
        ...

    def low_level_pages(self, warehouse_id: str) -> AsyncIterator[list[LowLevel]]:
        """The warehouse's levels at or below their reorder point, a page of at
        most 1000 at a time, by SKU (an async generator)."""
        ...

    async def low_levels_of(self, warehouse_id: str, skus: Sequence[str]) -> list[LowLevel]:
        """The levels of these SKUs (at most 500) at or below their reorder point."""
        ...

    async def demand(self, warehouse_id: str, skus: Sequence[str], start: datetime) -> dict[str, Demand]:
        """Shipped and returned per SKU since `start`; any number of SKUs."""
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
