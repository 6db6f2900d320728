"""Wires svc_catalog: database, units of work, cache, use cases, servicer, token verification."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from grpc import aio

from clients.user.client import remote_verifier
from kit.cache import DEFAULT_TTL_SECONDS, SYNC_SECONDS, Cache
from kit.clients import Channels
from kit.db import Database
from kit.server import Service
from kit.settings import Settings, seconds
from stockmesh.catalog.v1 import catalog_pb2_grpc
from svc_catalog import service
from svc_catalog.store.tables import idempotency_records
from svc_catalog.store.unit import units
from svc_catalog.usecases.cache import CatalogCache, MissedInDatabase
from svc_catalog.usecases.lookups import Lookups
from svc_catalog.usecases.products import Products
from svc_catalog.usecases.variants import Variants

NAME = "catalog"


def clock() -> datetime:
    return datetime.now(UTC)


async def build(settings: Settings) -> Service:
    db = Database(settings.database_url, pool_size=settings.pool_size(10))
    catalog = units(db, clock)
    ttl = seconds(settings, "CACHE_SECONDS", DEFAULT_TTL_SECONDS)
    # Without REDIS_URL the cache is a no-op and every read goes to the database.
    cache = CatalogCache(
        Cache(
            settings.redis_url,
            service=NAME,
            ttl_seconds=ttl,
            prefix=settings.extra.get("STOCKMESH_CATALOG_CACHE_PREFIX", ""),
            missed=MissedInDatabase(catalog, keep=timedelta(seconds=2 * ttl)),
            sync_seconds=seconds(settings, "CACHE_SYNC_SECONDS", SYNC_SECONDS),
            clock=clock,
        )
    )
    servicer = service.CatalogServicer(
        Products(catalog, cache), Variants(catalog, cache), Lookups(catalog, cache)
    )
    # Tokens are verified locally with svc_user's JWKS, fetched over mTLS.
    channels = Channels(settings)
    verifier = remote_verifier(channels, leeway_seconds=settings.token_leeway_seconds)

    def register(server: aio.Server) -> None:
        catalog_pb2_grpc.add_CatalogServiceServicer_to_server(servicer, server)

    return Service(
        name=NAME,
        register=register,
        service_names=(service.CATALOG,),
        rules=service.RULES,
        db=db,
        idempotency_records=idempotency_records,
        verifier=verifier,
        on_stop=[channels.close, cache.cache.close],
    )
