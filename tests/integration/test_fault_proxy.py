"""The fault proxies themselves: in front of a real svc_user, each fault does
what it says and nothing else, so tests of the callers' retries can trust them."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc import StatusCode
from grpc_health.v1 import health_pb2, health_pb2_grpc

from kit import status, tls
from stockmesh.user.v1 import user_pb2, user_pb2_grpc
from tests import harness
from tests.conftest import Stacks, Tenant, create_tenant
from tests.support.fault_proxy import GrpcFaultProxy, TcpResetProxy

JWKS = "/stockmesh.user.v1.AuthService/GetJwks"
CURRENT_USER = "/stockmesh.user.v1.UserService/GetCurrentUser"


@pytest.fixture(scope="module")
def service(stacks: Stacks) -> harness.ServiceProcess:
    return stacks.user("sqlite")


@pytest.fixture
def proxy(service: harness.ServiceProcess, tls_dir: Path) -> Iterator[GrpcFaultProxy]:
    proxy = GrpcFaultProxy(service.address, tls_dir, service.account, "dev-client")
    proxy.start()
    yield proxy
    proxy.close()


@pytest.fixture
def channel(proxy: GrpcFaultProxy, tls_dir: Path) -> Iterator[grpc.Channel]:
    with channel_to(proxy.address, tls_dir) as channel:
        yield channel


def channel_to(address: str, tls_dir: Path) -> grpc.Channel:
    """A channel to svc_user through a proxy; after a failed connect it tries
    again within 0.1 s rather than the default second."""
    options = [
        ("grpc.ssl_target_name_override", "svc-user"),
        ("grpc.initial_reconnect_backoff_ms", 100),
        ("grpc.min_reconnect_backoff_ms", 100),
    ]
    return grpc.secure_channel(address, tls.channel_credentials(harness.identity(tls_dir)), options=options)


def jwks(channel: grpc.Channel, timeout: float = 5) -> user_pb2.GetJwksResponse:
    reply: user_pb2.GetJwksResponse = user_pb2_grpc.AuthServiceStub(channel).GetJwks(
        user_pb2.GetJwksRequest(), timeout=timeout
    )
    return reply


def current_user(channel: grpc.Channel, metadata: tuple[tuple[str, str | bytes], ...] = ()) -> None:
    user_pb2_grpc.UserServiceStub(channel).GetCurrentUser(
        user_pb2.GetCurrentUserRequest(), metadata=metadata, timeout=5
    )


def test_a_plain_call_is_forwarded_and_answered(proxy: GrpcFaultProxy, channel: grpc.Channel) -> None:
    assert jwks(channel).keys
    assert (proxy.calls, proxy.forwarded, proxy.answered_faults) == ({JWKS: 1}, {JWKS: 1}, {})
    assert proxy.totals == {"calls": 1, "forwarded": 1, "answered_faults": 0}


def test_a_dropped_response_took_effect_upstream_and_the_next_call_passes(
    proxy: GrpcFaultProxy, channel: grpc.Channel
) -> None:
    proxy.drop_responses(1)

    lost = harness.refused(jwks, channel)
    assert jwks(channel).keys

    assert (lost.code, lost.message) == (StatusCode.UNAVAILABLE, "connection reset by fault proxy")
    assert proxy.forwarded == {JWKS: 2}
    assert proxy.answered_faults == {JWKS: 1}


def test_a_delayed_response_outlives_the_callers_deadline_quietly(
    proxy: GrpcFaultProxy, channel: grpc.Channel, caplog: pytest.LogCaptureFixture
) -> None:
    proxy.delay_responses(1, 1.0)

    late = harness.refused(jwks, channel, timeout=0.3)
    time.sleep(0.2)

    assert late.code == StatusCode.DEADLINE_EXCEEDED
    assert proxy.forwarded == {JWKS: 1}
    assert jwks(channel).keys
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_fail_refuses_without_forwarding_until_healed(proxy: GrpcFaultProxy, channel: grpc.Channel) -> None:
    proxy.fail(1, StatusCode.INTERNAL, method=CURRENT_USER)
    proxy.fail(None)

    codes = [harness.refused(jwks, channel).code for _ in range(3)]
    other = harness.refused(current_user, channel).code
    proxy.heal()

    assert codes == [StatusCode.UNAVAILABLE] * 3
    assert other == StatusCode.INTERNAL, "the fault armed first for that method applies first"
    assert jwks(channel).keys
    assert proxy.forwarded == {JWKS: 1}
    assert proxy.answered_faults == {JWKS: 3, CURRENT_USER: 1}


def test_an_upstream_refusal_reaches_the_caller_with_its_details(
    service: harness.ServiceProcess, channel: grpc.Channel
) -> None:
    with pytest.raises(grpc.RpcError) as direct, service.channel() as straight:
        current_user(straight)
    with pytest.raises(grpc.RpcError) as proxied:
        current_user(channel)

    def trailer(error: Any) -> object:
        return dict(error.trailing_metadata() or ()).get("grpc-status-details-bin")

    assert proxied.value.code() == StatusCode.UNAUTHENTICATED
    assert trailer(proxied.value) == trailer(direct.value) != None  # noqa: E711
    assert status.details_of(proxied.value) == status.details_of(direct.value)


def test_the_callers_metadata_reaches_upstream(
    service: harness.ServiceProcess, channel: grpc.Channel
) -> None:
    slug, email = create_tenant(service.database_url)
    with service.channel() as straight:
        bearer = tuple(Tenant(slug, email, straight).bearer())

    reply = user_pb2_grpc.UserServiceStub(channel).GetCurrentUser(
        user_pb2.GetCurrentUserRequest(), metadata=bearer, timeout=5
    )

    assert reply.user.email == email


def test_a_streaming_method_is_unimplemented(channel: grpc.Channel) -> None:
    watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(), timeout=5)
    with pytest.raises(grpc.RpcError) as refused:
        next(watch)
    assert refused.value.code() == StatusCode.UNIMPLEMENTED


@pytest.fixture
def tcp(service: harness.ServiceProcess) -> Iterator[TcpResetProxy]:
    proxy = TcpResetProxy("127.0.0.1", service.port)
    proxy.start()
    yield proxy
    proxy.close()


def test_a_connection_reset_on_accept_fails_the_call_and_a_later_one_passes(
    tcp: TcpResetProxy, tls_dir: Path
) -> None:
    tcp.reset_connections(1)
    with channel_to(tcp.address, tls_dir) as channel:
        refused = harness.refused(jwks, channel)
        # Until its backoff ends the channel fails calls at once; this one waits.
        reply = user_pb2_grpc.AuthServiceStub(channel).GetJwks(
            user_pb2.GetJwksRequest(), timeout=5, wait_for_ready=True
        )

    assert refused.code == StatusCode.UNAVAILABLE
    assert reply.keys
    assert tcp.resets == 1


def test_a_connection_reset_mid_call_fails_that_call(tcp: TcpResetProxy, tls_dir: Path) -> None:
    with channel_to(tcp.address, tls_dir) as channel:
        jwks(channel)
    # Past the handshake and one call: the reset comes inside the next, larger request.
    tcp.reset_connections(1, after_bytes=tcp.client_bytes + 1000)
    with channel_to(tcp.address, tls_dir) as channel:
        jwks(channel)
        refused = harness.refused(current_user, channel, (("x-padding", "p" * 20000),))

    assert refused.code == StatusCode.UNAVAILABLE
    assert tcp.resets == 1
