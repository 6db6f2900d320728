"""svc_stock's gRPC servicers: proto in, command to a use case, proto out.
One module per service of the contract; `common` holds what they share."""

from svc_stock.service.common import RULES

__all__ = ["RULES"]
