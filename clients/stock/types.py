"""What callers of svc_stock read back, free of gRPC."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LowLevel:
    sku: str
    on_hand: int
    reserved: int
    available: int
    reorder_point: int
    reorder_quantity: int


@dataclass(frozen=True)
class Demand:
    shipped: int
    returned: int
