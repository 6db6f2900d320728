"""svc_stock as its callers see it: low levels and demand (what replenishment
reads). No gRPC here (see `client`)."""

from clients.stock.types import Demand, LowLevel

__all__ = ["Demand", "LowLevel"]
