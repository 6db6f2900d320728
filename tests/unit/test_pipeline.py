"""The call pipeline maps every outcome to a status: service errors with their
details, anything unexpected to a bare INTERNAL, and counts each in the metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import grpc
import pytest
from google.protobuf import struct_pb2
from grpc import aio

from kit import auth, errors, metrics, status
from kit.mesh.authz import Authorizer, policies
from kit.mesh.files import Resource
from kit.peers import Workloads
from kit.pipeline import CallPipeline

# No AuthorizationPolicy applies: every workload may call (the mesh's own
# refusals are specified in tests/unit/mesh and tests/integration/mesh).
OPEN = Authorizer([], namespace="n", labels={}, trust_domain="t")
WORKLOAD = "spiffe://t/ns/n/sa/svc-test"

SERVICE = "stockmesh.test.v1.Probe"


async def fails_unexpectedly(request: struct_pb2.Struct, context: object) -> struct_pb2.Struct:
    raise RuntimeError("connection string postgres://secret@db")


async def finds_nothing(request: struct_pb2.Struct, context: object) -> struct_pb2.Struct:
    raise errors.NotFound("widget", "widgets/42")


async def needs_a_user(request: struct_pb2.Struct, context: object) -> struct_pb2.Struct:
    return struct_pb2.Struct()


def handler(behavior: object) -> grpc.RpcMethodHandler:  # type: ignore[type-arg]
    return grpc.unary_unary_rpc_method_handler(
        behavior,  # type: ignore[arg-type]
        request_deserializer=struct_pb2.Struct.FromString,
        response_serializer=struct_pb2.Struct.SerializeToString,
    )


async def no_keys() -> list[auth.Jwk]:
    return []


@pytest.fixture
async def channel() -> AsyncIterator[aio.Channel]:
    rules = {
        f"/{SERVICE}/FailsUnexpectedly": auth.PUBLIC,
        f"/{SERVICE}/FindsNothing": auth.PUBLIC,
        f"/{SERVICE}/NeedsAUser": auth.ANY_USER,
    }
    pipeline = CallPipeline(
        rules, auth.TokenVerifier(auth.KeySet(no_keys)), workloads=Workloads(OPEN, workload=WORKLOAD)
    )
    server = aio.server(interceptors=[pipeline])
    server.add_generic_rpc_handlers(
        [
            grpc.method_handlers_generic_handler(
                SERVICE,
                {
                    "FailsUnexpectedly": handler(fails_unexpectedly),
                    "FindsNothing": handler(finds_nothing),
                    "NeedsAUser": handler(needs_a_user),
                },
            )
        ]
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with aio.insecure_channel(f"127.0.0.1:{port}") as ch:
        yield ch
    await server.stop(None)


async def call(channel: aio.Channel, method: str) -> status.StatusDetails:
    stub = channel.unary_unary(
        f"/{SERVICE}/{method}",
        request_serializer=struct_pb2.Struct.SerializeToString,
        response_deserializer=struct_pb2.Struct.FromString,
    )
    with pytest.raises(aio.AioRpcError) as info:
        await stub(struct_pb2.Struct(), timeout=5)
    return status.details_of(info.value)


def handled(method: str, code: str) -> float:
    labels = {"grpc_type": "UNARY", "grpc_service": SERVICE, "grpc_method": method, "grpc_code": code}
    return metrics.handled.labels(**labels)._value.get()


async def counted(method: str, code: str, expected: float) -> bool:
    """The handled counter reaches `expected`. The server counts a call after
    its status is sent, so the client may see the status a moment earlier."""
    for _ in range(100):
        if handled(method, code) == expected:
            return True
        await asyncio.sleep(0.01)
    return handled(method, code) == expected


async def test_an_unexpected_exception_is_internal_and_leaks_nothing(
    channel: aio.Channel, caplog: pytest.LogCaptureFixture
) -> None:
    before = handled("FailsUnexpectedly", "INTERNAL")

    with caplog.at_level(logging.ERROR, logger="kit.rpc"):
        refusal = await call(channel, "FailsUnexpectedly")

    assert (refusal.code, refusal.message, refusal.reason) == (
        grpc.StatusCode.INTERNAL,
        "internal error",
        "INTERNAL",
    )
    assert "secret" not in repr(refusal)
    assert any(r.exc_info and "postgres://secret" in str(r.exc_info[1]) for r in caplog.records)
    assert await counted("FailsUnexpectedly", "INTERNAL", before + 1)


async def test_a_service_error_keeps_its_code_reason_and_metadata(channel: aio.Channel) -> None:
    refusal = await call(channel, "FindsNothing")

    assert (refusal.code, refusal.reason) == (grpc.StatusCode.NOT_FOUND, "NOT_FOUND")
    assert refusal.metadata == {"resource_type": "widget", "name": "widgets/42"}


async def test_an_rpc_for_users_refuses_a_call_without_a_token(channel: aio.Channel) -> None:
    before = handled("NeedsAUser", "UNAUTHENTICATED")

    refusal = await call(channel, "NeedsAUser")

    assert (refusal.code, refusal.reason) == (grpc.StatusCode.UNAUTHENTICATED, "TOKEN_MISSING")
    assert await counted("NeedsAUser", "UNAUTHENTICATED", before + 1)


async def whoami(request: struct_pb2.Struct, context: object) -> struct_pb2.Struct:
    caller = auth.current.get()
    who = auth.principal()
    reply = struct_pb2.Struct()
    reply.update(
        {"tenant": who.tenant_id, "service": who.service, "user": who.user_id, "peer": caller.peer or ""}
    )
    return reply


@contextlib.asynccontextmanager
async def behind_sidecar(authorizer: Authorizer, services: frozenset[str]) -> AsyncIterator[aio.Channel]:
    """A server in mesh mode with one method, Book (clerks, or system work of
    `services`): the caller's identity comes from XFCC."""
    rules = {f"/{SERVICE}/Book": auth.roles(auth.Role.CLERK, services=services)}
    pipeline = CallPipeline(
        rules,
        auth.TokenVerifier(auth.KeySet(no_keys)),
        workloads=Workloads(authorizer, workload=WORKLOAD, identity_from="mesh"),
    )
    server = aio.server(interceptors=[pipeline])
    server.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler(SERVICE, {"Book": handler(whoami)})]
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with aio.insecure_channel(f"127.0.0.1:{port}") as ch:
        yield ch
    await server.stop(None)


@pytest.fixture
async def mesh_channel() -> AsyncIterator[aio.Channel]:
    """No mesh policy applies: the RPC's own rule admits svc-procure's system work."""
    async with behind_sidecar(OPEN, frozenset({"svc-procure"})) as ch:
        yield ch


def xfcc(account: str) -> tuple[str, str]:
    return ("x-forwarded-client-cert", f"By=spiffe://t/ns/n/sa/svc-stock;URI=spiffe://t/ns/n/sa/{account}")


async def book(channel: aio.Channel, metadata: list[tuple[str, str]]) -> dict[str, object]:
    stub = channel.unary_unary(
        f"/{SERVICE}/Book",
        request_serializer=struct_pb2.Struct.SerializeToString,
        response_deserializer=struct_pb2.Struct.FromString,
    )
    return dict((await stub(struct_pb2.Struct(), metadata=metadata, timeout=5)).items())


async def test_a_named_service_is_admitted_for_system_work_in_the_tenant_it_names(
    mesh_channel: aio.Channel,
) -> None:
    seen = await book(mesh_channel, [xfcc("svc-procure"), (auth.TENANT_HEADER, "tenant-7")])

    assert seen == {
        "tenant": "tenant-7",
        "service": "svc-procure",
        "user": "",
        "peer": "spiffe://t/ns/n/sa/svc-procure",
    }


async def test_a_service_the_rule_does_not_name_needs_a_user_token(mesh_channel: aio.Channel) -> None:
    with pytest.raises(aio.AioRpcError) as info:
        await book(mesh_channel, [xfcc("svc-order"), (auth.TENANT_HEADER, "tenant-7")])

    assert status.details_of(info.value).reason == "TOKEN_MISSING"


async def test_system_work_must_name_its_tenant(mesh_channel: aio.Channel) -> None:
    with pytest.raises(aio.AioRpcError) as info:
        await book(mesh_channel, [xfcc("svc-procure")])

    assert status.details_of(info.value).reason == "TENANT_MISSING"


def only_procure_may_book() -> Authorizer:
    """A workload whose AuthorizationPolicy lets svc-procure call Book."""
    policy = Resource(
        "sample.yaml#0",
        {
            "kind": "AuthorizationPolicy",
            "metadata": {"name": "probe", "namespace": "n"},
            "spec": {
                "rules": [
                    {
                        "from": [{"source": {"principals": ["t/ns/n/sa/svc-procure"]}}],
                        "to": [{"operation": {"paths": [f"/{SERVICE}/Book"]}}],
                    }
                ]
            },
        },
    )
    return Authorizer(policies([policy]), namespace="n", labels={}, trust_domain="t")


@pytest.fixture
async def guarded_channel() -> AsyncIterator[aio.Channel]:
    """The RPC's rule admits svc-order's system work, the mesh policy only svc-procure's."""
    async with behind_sidecar(only_procure_may_book(), frozenset({"svc-procure", "svc-order"})) as ch:
        yield ch


async def test_the_mesh_policy_refuses_a_workload_it_does_not_allow_naming_both(
    guarded_channel: aio.Channel, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="kit.rpc"), pytest.raises(aio.AioRpcError) as info:
        await book(guarded_channel, [xfcc("svc-order"), (auth.TENANT_HEADER, "tenant-7")])

    refusal = status.details_of(info.value)
    assert (refusal.code, refusal.reason) == (grpc.StatusCode.PERMISSION_DENIED, "MESH_POLICY_DENIED")
    assert refusal.metadata["caller"] == "spiffe://t/ns/n/sa/svc-order"
    assert refusal.metadata["callee"] == WORKLOAD
    logged = [r for r in caplog.records if r.getMessage() == "mesh policy refused a call"]
    assert [(r.caller, r.callee) for r in logged] == [("spiffe://t/ns/n/sa/svc-order", WORKLOAD)]  # type: ignore[attr-defined]


async def test_in_mesh_mode_a_call_without_the_sidecars_header_has_no_identity(
    guarded_channel: aio.Channel,
) -> None:
    with pytest.raises(aio.AioRpcError) as info:
        await book(guarded_channel, [(auth.TENANT_HEADER, "tenant-7")])

    refusal = status.details_of(info.value)
    assert (refusal.code, refusal.reason) == (grpc.StatusCode.UNAUTHENTICATED, "PEER_IDENTITY_MISSING")


async def test_in_mesh_mode_the_sidecars_header_is_trusted_from_loopback(
    guarded_channel: aio.Channel,
) -> None:
    seen = await book(guarded_channel, [xfcc("svc-procure"), (auth.TENANT_HEADER, "tenant-7")])
    assert seen["peer"] == "spiffe://t/ns/n/sa/svc-procure"


class FromAfar:
    """A call's context as seen when the caller connected from another host."""

    def __init__(self, peer: str) -> None:
        self._peer = peer

    def peer(self) -> str:
        return self._peer


@pytest.mark.parametrize("peer", ["ipv4:10.0.0.7:41234", "ipv6:[2001:db8::7]:41234", "unix:/tmp/sock"])
def test_in_mesh_mode_the_sidecars_header_from_any_other_address_is_refused(peer: str) -> None:
    workloads = Workloads(OPEN, workload=WORKLOAD, identity_from="mesh")
    with pytest.raises(errors.Unauthenticated) as info:
        workloads.identify(FromAfar(peer), dict([xfcc("svc-procure")]))  # type: ignore[arg-type]
    assert info.value.reason == "FORWARDED_IDENTITY_UNTRUSTED"


@pytest.mark.parametrize(
    "peer", ["ipv4:127.0.0.6:41234", "ipv4:127.0.0.1:5", "ipv6:[::1]:41234", "ipv6:[::ffff:127.0.0.6]:9"]
)
def test_istios_inbound_source_addresses_are_loopback(peer: str) -> None:
    workloads = Workloads(OPEN, workload=WORKLOAD, identity_from="mesh")
    assert workloads.identify(FromAfar(peer), dict([xfcc("svc-procure")])) == "spiffe://t/ns/n/sa/svc-procure"  # type: ignore[arg-type]
