"""Wires svc_catalog: database, cache, use cases, servicer, token verification."""

from __future__ import annotations

from grpc import aio

from kit.cache import DEFAULT_TTL_SECONDS, Cache
from kit.clients import Channels
from kit.db import Database
from kit.jwks import remote_verifier
from kit.server import Service
from kit.settings import Settings, seconds
from stockmesh.catalog.v1 import catalog_pb2_grpc
from svc_catalog import service, store
from svc_catalog.usecases import Catalog

NAME = "catalog"


async def build(settings: Settings) -> Service:
    db = Database(settings.database_url)
    # Without REDIS_URL the cache is a no-op and every read goes to the database.
    cache = Cache(
        settings.redis_url,
        service=NAME,
        ttl_seconds=seconds(settings, "CACHE_SECONDS", DEFAULT_TTL_SECONDS),
        prefix=settings.extra.get("STOCKMESH_CATALOG_CACHE_PREFIX", ""),
    )
    catalog = Catalog(db, cache)
    # Tokens are verified locally with svc_user's JWKS, fetched over mTLS.
    channels = Channels(settings)
    verifier = remote_verifier(channels, leeway_seconds=settings.token_leeway_seconds)

    def register(server: aio.Server) -> None:
        catalog_pb2_grpc.add_CatalogServiceServicer_to_server(service.CatalogServicer(catalog), server)

    return Service(
        name=NAME,
        register=register,
        service_names=(service.CATALOG,),
        rules=service.RULES,
        db=db,
        idempotency_records=store.idempotency_records,
        verifier=verifier,
        on_stop=[channels.close, cache.close],
    )
