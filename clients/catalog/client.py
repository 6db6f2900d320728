"""svc_catalog over gRPC: BatchGetVariants, called with the end user's token
(forwarded by kit.clients), so it sees their tenant. Refusals and failures
arrive as kit errors (kit.neighbours)."""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from clients.catalog.types import Lookup, Money, Variant
from stockmesh.catalog.v1 import catalog_pb2, catalog_pb2_grpc


class CatalogClient:
    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.stub = catalog_pb2_grpc.CatalogServiceStub(channel)

    async def variants(self, skus: Sequence[str]) -> Lookup:
        wanted = list(dict.fromkeys(skus))
        if not wanted:
            return Lookup({}, ())
        reply = await self.stub.BatchGetVariants(catalog_pb2.BatchGetVariantsRequest(skus=wanted))
        found = {
            v.sku: Variant(
                sku=v.sku,
                description=", ".join(part for part in (v.product_display_name, v.display_name) if part),
                list_price=Money(v.list_price.currency_code, v.list_price.units, v.list_price.nanos),
                archived=v.status == catalog_pb2.VARIANT_STATUS_ARCHIVED,
            )
            for v in reply.variants
        }
        return Lookup(found, tuple(reply.unknown_skus))
