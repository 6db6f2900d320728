"""A stand-in for any service other than svc_user, running the shared runtime.

It verifies access tokens against svc_user's JWKS over mTLS (clients.user) and
answers one RPC, WhoAmI, with what it learned about the caller. Run as
`python -m tests.support.probe_server` with the usual STOCKMESH_* variables.
"""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
from google.protobuf import struct_pb2
from grpc import aio

from clients.user.client import remote_verifier
from kit import auth, db, idempotency, logs
from kit.clients import Channels
from kit.db import Database
from kit.server import Service, serve
from kit.settings import Settings

METHOD = "/stockmesh.probe.v1.Probe/WhoAmI"
records = idempotency.table(db.metadata())


async def who_am_i(request: struct_pb2.Struct, context: Any) -> struct_pb2.Struct:
    caller = auth.current.get()
    who = auth.principal()
    reply = struct_pb2.Struct()
    reply.update(
        {
            "user_id": who.user_id,
            "tenant_id": who.tenant_id,
            "roles": sorted(who.roles),
            "peer": caller.peer or "",
        }
    )
    return reply


def register(server: aio.Server) -> None:
    handler = grpc.unary_unary_rpc_method_handler(
        who_am_i,
        request_deserializer=struct_pb2.Struct.FromString,
        response_serializer=struct_pb2.Struct.SerializeToString,
    )
    server.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler("stockmesh.probe.v1.Probe", {"WhoAmI": handler})]
    )


async def main() -> None:
    settings = Settings.from_env("catalog")
    channels = Channels(settings)
    database = Database(settings.database_url)
    async with database.transaction() as conn:  # the one table every service has
        await conn.run_sync(records.metadata.create_all)
    service = Service(
        name="probe",
        register=register,
        service_names=(),
        rules={METHOD: auth.ANY_USER},
        db=database,
        idempotency_records=records,
        verifier=remote_verifier(channels, leeway_seconds=settings.token_leeway_seconds),
        on_stop=[channels.close],
    )
    await serve(service, settings)


if __name__ == "__main__":
    logs.configure("probe", "INFO", "json")
    asyncio.run(main())
