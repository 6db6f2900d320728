"""A tester's request for the canary (x-stockmesh-canary: v2) is routed to
subset v2 at every hop: each call made while serving it carries the header
on, and the VirtualServices send such calls to their canary-tester route."""

from __future__ import annotations

import grpc
from google.protobuf import struct_pb2
from grpc import aio

from kit import context
from kit.mesh import files, traffic
from tests.support.loopback import serving

PATH = "/stockmesh.stock.v1.ReservationService/CreateReservation"


async def test_calls_made_for_a_canary_request_carry_the_header_on() -> None:
    seen: list[dict[str, str]] = []

    async def echo(request: struct_pb2.Struct, ctx: aio.ServicerContext) -> struct_pb2.Struct:  # type: ignore[type-arg]
        seen.append({k: v for k, v in ctx.invocation_metadata() or () if isinstance(v, str)})
        return struct_pb2.Struct()

    def register(server: aio.Server) -> None:

        handler = grpc.unary_unary_rpc_method_handler(
            echo,
            request_deserializer=struct_pb2.Struct.FromString,
            response_serializer=struct_pb2.Struct.SerializeToString,
        )
        server.add_generic_rpc_handlers(
            [
                grpc.method_handlers_generic_handler(
                    "stockmesh.stock.v1.ReservationService", {"CreateReservation": handler}
                )
            ]
        )

    async with serving(register) as channels:
        call = channels.get("stock").unary_unary(
            PATH,
            request_serializer=struct_pb2.Struct.SerializeToString,
            response_deserializer=struct_pb2.Struct.FromString,
        )
        await call(struct_pb2.Struct())
        token = context.canary.set("v2")
        try:
            await call(struct_pb2.Struct())
        finally:
            context.canary.reset(token)

    assert [s.get(context.CANARY_HEADER) for s in seen] == [None, "v2"]


def test_every_service_sends_a_testers_calls_to_its_canary_route() -> None:
    resources = files.read(files.DEFAULT_DIR)
    for account in ("svc-user", "svc-catalog", "svc-stock", "svc-procure", "svc-order"):
        policy = traffic.client_policy(resources, traffic.host_of(account, "stockmesh"))
        assert policy.route(PATH, {context.CANARY_HEADER: "v2"}).name == "canary-tester"
        assert policy.route(PATH, {}).name != "canary-tester"
