"""What svc_order needs of svc_stock: reservations and returns.

A port: every call takes a request_id derived from the order (or return) and
the step, so a retry never takes effect twice. app.py plugs in the shared
gRPC client (clients.stock.client): refusals arrive as kit.errors (e.g.
FailedPrecondition INSUFFICIENT_STOCK naming the short lines); an
unreachable svc_stock as kit.errors.Unavailable STOCK_UNAVAILABLE.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol


class Stock(Protocol):
    async def reserve(
        self,
        request_id: str,
        reference: str,
        warehouse_id: str,
        lines: Sequence[tuple[str, int]],
        ttl: timedelta,
    ) -> str:
        """Holds every line or none for `ttl`; returns the reservation id."""
        ...

    async def extend(self, request_id: str, reservation_id: str, expire_at: datetime) -> None: ...

    async def release(self, request_id: str, reservation_id: str) -> None:
        """Frees the stock; succeeds on a reservation that already ended (not committed)."""
        ...

    async def commit(self, request_id: str, reservation_id: str, shipped_at: datetime | None) -> None: ...

    async def return_stock(
        self, request_id: str, reference: str, warehouse_id: str, lines: Sequence[tuple[str, int]], note: str
    ) -> list[str]:
        """Books the lines back in; returns the movement names."""
        ...
