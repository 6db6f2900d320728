"""The mesh's client policy against a real gRPC server on loopback: the
VirtualService's retries and per-try timeouts, the DestinationRule's circuit
breaking, and no retries at all in mesh mode (the sidecar's job)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import grpc
import pytest
from google.protobuf import struct_pb2
from grpc import aio

from kit.mesh.client import Traffic
from kit.mesh.traffic import ClientPolicy, Outlier, Retries, Route
from tests.harness import free_port

METHOD = "/stockmesh.test.v1.Probe/Book"
STREAM = "/stockmesh.test.v1.Probe/Watch"


@dataclass
class Upstream:
    """Answers each call with the next scripted outcome: a status code to
    fail with, a delay before answering OK, or OK."""

    script: list[grpc.StatusCode | float] = field(default_factory=list)
    calls: int = 0

    async def book(self, request: struct_pb2.Struct, ctx: aio.ServicerContext) -> struct_pb2.Struct:  # type: ignore[type-arg]
        self.calls += 1
        step = self.script.pop(0) if self.script else grpc.StatusCode.OK
        if isinstance(step, float):
            await asyncio.sleep(step)
        elif step != grpc.StatusCode.OK:
            await ctx.abort(step, f"scripted {step.name}")
        return struct_pb2.Struct()


Served = tuple[Upstream, int]
Opener = Callable[[Traffic], aio.Channel]


def policy(
    *,
    connect_timeout: float = 1.0,
    attempts: int = 2,
    per_try: float | None = None,
    retry_on: str = "unavailable,reset",
    faults: int | None = None,
    ejection: float = 30.0,
    timeout: float | None = 5.0,
) -> ClientPolicy:
    outlier = Outlier(faults, None, 10.0, ejection, 300.0) if faults else None
    retries = Retries(attempts, per_try, frozenset(retry_on.split(",")))
    return ClientPolicy(
        "svc-test", (Route("default", (), timeout, retries),), None, None, outlier, connect_timeout
    )


def probe_handler(served: Upstream) -> grpc.GenericRpcHandler:
    handler = grpc.unary_unary_rpc_method_handler(
        served.book,
        request_deserializer=struct_pb2.Struct.FromString,
        response_serializer=struct_pb2.Struct.SerializeToString,
    )
    return grpc.method_handlers_generic_handler("stockmesh.test.v1.Probe", {"Book": handler})


@pytest.fixture
async def upstream() -> AsyncIterator[Served]:
    served = Upstream()
    server = aio.server()
    server.add_generic_rpc_handlers([probe_handler(served)])
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield served, port
    await server.stop(None)


def channel_to(port: int, traffic: Traffic) -> aio.Channel:
    """A channel under `traffic`'s policy, as kit.clients opens one."""
    interceptors = traffic.interceptors()
    channel = aio.insecure_channel(
        f"127.0.0.1:{port}", options=[("grpc.enable_retries", 0)], interceptors=interceptors
    )
    for interceptor in interceptors:
        interceptor.bind(channel)
    return channel


@pytest.fixture
async def caller(upstream: Served) -> AsyncIterator[Opener]:
    opened: list[aio.Channel] = []

    def open_with(traffic: Traffic) -> aio.Channel:
        opened.append(channel_to(upstream[1], traffic))
        return opened[-1]

    yield open_with
    for channel in opened:
        await channel.close(None)


async def book(channel: aio.Channel, timeout: float | None = None) -> grpc.StatusCode:
    stub = channel.unary_unary(
        METHOD,
        request_serializer=struct_pb2.Struct.SerializeToString,
        response_deserializer=struct_pb2.Struct.FromString,
    )
    try:
        await stub(struct_pb2.Struct(), timeout=timeout)
    except aio.AioRpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


async def test_unavailable_is_retried_up_to_the_attempts_the_route_allows(
    upstream: Served, caller: Opener
) -> None:
    served, _ = upstream
    channel = caller(Traffic("test", policy(attempts=2), retries=True, breaking=True))
    served.script = [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.UNAVAILABLE]

    assert await book(channel) == grpc.StatusCode.OK
    assert served.calls == 3

    served.calls = 0
    served.script = [grpc.StatusCode.UNAVAILABLE] * 3
    assert await book(channel) == grpc.StatusCode.UNAVAILABLE
    assert served.calls == 3  # the first try and two retries


async def test_a_refusal_is_never_retried(upstream: Served, caller: Opener) -> None:
    served, _ = upstream
    channel = caller(Traffic("test", policy(attempts=3), retries=True, breaking=True))
    served.script = [grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION]

    assert await book(channel) == grpc.StatusCode.INVALID_ARGUMENT
    assert served.calls == 1


async def test_a_try_past_its_per_try_timeout_is_retried_as_a_reset(upstream: Served, caller: Opener) -> None:
    served, _ = upstream
    channel = caller(Traffic("test", policy(attempts=2, per_try=0.2), retries=True, breaking=True))
    served.script = [1.0]  # the first answer comes too late

    assert await book(channel) == grpc.StatusCode.OK
    assert served.calls == 2


async def test_without_reset_in_retry_on_a_late_try_is_the_answer(upstream: Served, caller: Opener) -> None:
    served, _ = upstream
    channel = caller(
        Traffic(
            "test", policy(attempts=2, per_try=0.2, retry_on="connect-failure"), retries=True, breaking=True
        )
    )
    served.script = [1.0]

    assert await book(channel) == grpc.StatusCode.DEADLINE_EXCEEDED
    assert served.calls == 1


async def test_the_callers_own_deadline_bounds_every_retry(upstream: Served, caller: Opener) -> None:
    served, _ = upstream
    channel = caller(Traffic("test", policy(attempts=5, per_try=0.3), retries=True, breaking=True))
    served.script = [1.0] * 5

    assert await book(channel, timeout=0.5) == grpc.StatusCode.DEADLINE_EXCEEDED
    assert served.calls == 2  # 0.3 s, then what was left of the 0.5 s


async def test_in_mesh_mode_the_client_never_retries(upstream: Served, caller: Opener) -> None:
    served, _ = upstream
    channel = caller(Traffic("test", policy(attempts=3, faults=1), retries=False, breaking=False))
    served.script = [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.UNAVAILABLE]

    assert await book(channel) == grpc.StatusCode.UNAVAILABLE
    assert await book(channel) == grpc.StatusCode.UNAVAILABLE  # no circuit either: the call went out
    assert served.calls == 2


async def test_consecutive_server_faults_open_the_circuit_and_calls_fail_without_leaving(
    upstream: Served, caller: Opener
) -> None:
    served, _ = upstream
    traffic = Traffic("test", policy(attempts=0, faults=3, ejection=0.5), retries=True, breaking=True)
    channel = caller(traffic)
    served.script = [grpc.StatusCode.INTERNAL, grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED]

    assert [await book(channel) for _ in range(3)] == [
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
    ]
    assert await book(channel) == grpc.StatusCode.UNAVAILABLE
    assert served.calls == 3  # the fourth never reached the server

    await asyncio.sleep(0.6)  # the ejection ends; the service is healthy again
    assert await book(channel) == grpc.StatusCode.OK
    assert served.calls == 4


async def test_refusals_in_between_keep_the_circuit_closed(upstream: Served, caller: Opener) -> None:
    served, _ = upstream
    channel = caller(Traffic("test", policy(attempts=0, faults=2), retries=True, breaking=True))
    served.script = [grpc.StatusCode.INTERNAL, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INTERNAL]

    for _ in range(3):
        await book(channel)
    assert await book(channel) == grpc.StatusCode.OK
    assert served.calls == 4


async def test_a_retry_waits_up_to_the_connect_timeout_for_a_service_coming_back() -> None:
    port = free_port()
    served = Upstream()
    traffic = Traffic("test", policy(attempts=1, connect_timeout=5.0), retries=True, breaking=True)
    channel = channel_to(port, traffic)
    server = aio.server()
    server.add_generic_rpc_handlers([probe_handler(served)])
    server.add_insecure_port(f"127.0.0.1:{port}")

    async def comes_back() -> None:
        await asyncio.sleep(0.3)  # after the first try was refused
        await server.start()

    back = asyncio.ensure_future(comes_back())
    try:
        assert await book(channel) == grpc.StatusCode.OK
        assert served.calls == 1  # the first try never connected
    finally:
        await back
        await channel.close(None)
        await server.stop(None)


async def test_a_retry_to_a_service_that_stays_down_gives_up_after_the_connect_timeout() -> None:
    traffic = Traffic("test", policy(attempts=2, connect_timeout=0.05), retries=True, breaking=True)
    channel = channel_to(free_port(), traffic)
    try:
        assert await book(channel) == grpc.StatusCode.UNAVAILABLE
    finally:
        await channel.close(None)
