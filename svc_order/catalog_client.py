"""The catalog port over gRPC: svc_catalog's BatchGetVariants."""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from kit import errors, status
from kit.clients import is_unavailable
from stockmesh.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from svc_order.catalog import Lookup
from svc_order.domain import CatalogVariant, Money


class CatalogClient:
    """Called with the end user's token (forwarded by kit.clients), so it sees their tenant."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.stub = catalog_pb2_grpc.CatalogServiceStub(channel)

    async def variants(self, skus: Sequence[str]) -> Lookup:
        wanted = list(dict.fromkeys(skus))
        try:
            reply = await self.stub.BatchGetVariants(catalog_pb2.BatchGetVariantsRequest(skus=wanted))
        except grpc.RpcError as exc:
            if is_unavailable(exc):
                raise errors.Unavailable(
                    "svc_catalog could not be reached; nothing was changed", reason="CATALOG_UNAVAILABLE"
                ) from exc
            raise status.error_of(exc) from exc
        found = {
            v.sku: CatalogVariant(
                sku=v.sku,
                description=", ".join(part for part in (v.product_display_name, v.display_name) if part),
                list_price=Money(v.list_price.currency_code, v.list_price.units, v.list_price.nanos),
                archived=v.status == catalog_pb2.VARIANT_STATUS_ARCHIVED,
            )
            for v in reply.variants
        }
        return Lookup(found, tuple(reply.unknown_skus))
