"""The SKU directory over gRPC: svc_catalog's BatchGetVariants."""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from kit import errors
from stockmesh.catalog.v1 import catalog_pb2, catalog_pb2_grpc


class CatalogClient:
    """The SKU directory backed by svc_catalog's BatchGetVariants, called with
    the end user's token (forwarded by kit.clients), so it sees their tenant."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.stub = catalog_pb2_grpc.CatalogServiceStub(channel)

    async def unknown(self, skus: Sequence[str]) -> list[str]:
        wanted = list(dict.fromkeys(skus))
        try:
            reply = await self.stub.BatchGetVariants(catalog_pb2.BatchGetVariantsRequest(skus=wanted))
        except grpc.RpcError as exc:
            raise errors.Unavailable(
                "the catalog could not be asked about these SKUs; nothing was changed",
                reason="CATALOG_UNAVAILABLE",
            ) from exc
        return list(reply.unknown_skus)
