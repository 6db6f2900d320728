"""A service in mesh mode (STOCKMESH_TLS_MODE=mesh), as in the cluster: the
sidecar terminates mTLS and names the caller in x-forwarded-client-cert,
which the service trusts from loopback only, and still applies the
AuthorizationPolicy to that identity. (A header from any other address is
refused: tests/unit/test_pipeline.py, since servers in tests bind to
loopback only.)"""

from __future__ import annotations

import grpc
import pytest

from kit import status
from kit.clients import Channels
from stockmesh.user.v1 import user_pb2, user_pb2_grpc
from tests import harness
from tests.conftest import Stacks
from tests.support.loopback import Loopback

JWKS = user_pb2.GetJwksRequest()


def xfcc(account: str) -> list[tuple[str, str]]:
    workload = f"spiffe://{harness.TRUST_DOMAIN}/ns/{harness.NAMESPACE}/sa"
    return [
        ("x-forwarded-client-cert", f'By={workload}/svc-user;Hash=ab12;Subject="";URI={workload}/{account}')
    ]


@pytest.fixture(scope="module")
def behind_sidecar(stacks: Stacks) -> harness.ServiceProcess:
    return stacks.service("user", "sqlite", env={"STOCKMESH_TLS_MODE": "mesh"}, variant="-mesh")


def outcome(
    service: harness.ServiceProcess, call: str, request: object, metadata: list[tuple[str, str]]
) -> tuple[grpc.StatusCode, str]:
    with grpc.insecure_channel(service.address) as channel:
        stub = (
            user_pb2_grpc.AuthServiceStub(channel)
            if call == "GetJwks"
            else user_pb2_grpc.UserServiceStub(channel)
        )
        try:
            getattr(stub, call)(request, metadata=metadata, timeout=10)
        except grpc.RpcError as exc:
            refusal = status.details_of(exc)
            return refusal.code, refusal.reason
    return grpc.StatusCode.OK, ""


def test_the_sidecars_identity_is_what_the_policy_judges(behind_sidecar: harness.ServiceProcess) -> None:
    assert outcome(behind_sidecar, "GetJwks", JWKS, xfcc("svc-stock")) == (grpc.StatusCode.OK, "")
    assert outcome(behind_sidecar, "CreateUser", user_pb2.CreateUserRequest(), xfcc("svc-stock")) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "MESH_POLICY_DENIED",
    )


def test_a_call_without_the_sidecars_header_is_refused(behind_sidecar: harness.ServiceProcess) -> None:
    assert outcome(behind_sidecar, "GetJwks", JWKS, []) == (
        grpc.StatusCode.UNAUTHENTICATED,
        "PEER_IDENTITY_MISSING",
    )


def test_health_answers_the_kubelet_without_an_identity(behind_sidecar: harness.ServiceProcess) -> None:
    assert behind_sidecar.health() == 1  # SERVING


def test_in_mesh_mode_clients_leave_retries_and_circuit_breaking_to_the_sidecar() -> None:
    sidecar = Channels(Loopback(harness.free_port(), tls_mode="mesh")).traffic_to("stock")
    local = Channels(Loopback(harness.free_port(), tls_mode="mtls")).traffic_to("stock")

    assert (sidecar.retries, sidecar.breaker) == (False, None)
    assert local.retries
    assert local.breaker is not None
    # The deadline is the VirtualService's in both modes.
    path = "/stockmesh.stock.v1.ReservationService/CreateReservation"
    assert sidecar.policy.route(path, {}).timeout == local.policy.route(path, {}).timeout == 10.0
