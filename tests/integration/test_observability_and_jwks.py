"""Another process verifies svc_user's tokens from its JWKS over mTLS, one trace
covers a call and the call it makes, and the standard gRPC metrics are served."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import struct_pb2
from grpc import StatusCode

from stockmesh.user.v1 import user_pb2
from tests import harness
from tests.conftest import Tenant, auth_metadata
from tests.support.mesh_policy import Document, edited_policy, of_kind
from tests.support.probe_server import METHOD


@pytest.fixture
def probe(
    user_service: harness.ServiceProcess, tls_dir: Path, tmp_path: Path
) -> Iterator[harness.ServiceProcess]:
    """A process in the role of another service (it holds svc-catalog's
    certificate), whose mesh policy lets callers of svc-catalog call it."""

    def probe_allowed(documents: list[Document]) -> None:
        edge = of_kind(documents, "AuthorizationPolicy")["spec"]["rules"][0]
        edge["to"][0]["operation"]["paths"].append(f"/{METHOD.split('/')[1]}/*")

    policy = edited_policy(tmp_path, "services/svc-catalog.yaml", probe_allowed)
    service = harness.ServiceProcess(
        "catalog",
        tmp_path,
        tls_dir,
        f"sqlite:///{tmp_path / 'probe.db'}",
        env={"STOCKMESH_USER_ADDR": user_service.address, "STOCKMESH_MESH_DIR": str(policy)},
        command=("-m", "tests.support.probe_server"),
    )
    yield service.start(migrate=False)
    service.stop()


def who_am_i(probe: harness.ServiceProcess, token: str) -> dict[str, object]:
    with probe.channel() as channel:
        call = channel.unary_unary(
            METHOD,
            request_serializer=struct_pb2.Struct.SerializeToString,
            response_deserializer=struct_pb2.Struct.FromString,
        )
        reply = call(struct_pb2.Struct(), metadata=auth_metadata(token), timeout=10)
    return dict(reply.items())


def spans(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_another_process_verifies_tokens_with_the_jwks_and_sees_the_calling_workload(
    tenant: Tenant, probe: harness.ServiceProcess
) -> None:
    login = tenant.login()

    seen = who_am_i(probe, login.tokens.access_token)

    assert seen["user_id"] == login.user.name.removeprefix("users/")
    assert seen["tenant_id"] == login.user.tenant.removeprefix("tenants/")
    assert list(seen["roles"]) == ["admin"]  # type: ignore[call-overload]
    assert seen["peer"] == "spiffe://stockmesh.test/ns/stockmesh/sa/dev-client"


def test_another_process_refuses_a_forged_token(tenant: Tenant, probe: harness.ServiceProcess) -> None:
    token = tenant.login().tokens.access_token
    head, body, signature = token.split(".")
    tampered = f"{head}.{body}.{signature[::-1]}"

    refusal = harness.refused(who_am_i, probe, tampered)

    assert (refusal.code, refusal.reason) == (StatusCode.UNAUTHENTICATED, "TOKEN_INVALID")


def test_one_trace_covers_a_call_and_the_jwks_call_it_makes(
    tenant: Tenant, probe: harness.ServiceProcess, user_service: harness.ServiceProcess
) -> None:
    who_am_i(probe, tenant.login().tokens.access_token)

    probe_spans = spans(probe.traces_path)
    incoming = next(s for s in probe_spans if s["name"] == METHOD)
    trace_id = incoming["context"]["trace_id"]  # type: ignore[index]
    outgoing = [
        s for s in probe_spans if s["kind"] == "SpanKind.CLIENT" and s["context"]["trace_id"] == trace_id
    ]  # type: ignore[index]
    served = [
        s
        for s in spans(user_service.traces_path)
        if s["kind"] == "SpanKind.SERVER" and s["context"]["trace_id"] == trace_id  # type: ignore[index]
    ]

    assert [s["name"] for s in outgoing] == ["/stockmesh.user.v1.AuthService/GetJwks"]
    assert outgoing[0]["parent_id"] == incoming["context"]["span_id"]  # type: ignore[index]
    assert [s["name"] for s in served] == ["/stockmesh.user.v1.AuthService/GetJwks"]
    assert served[0]["parent_id"] == outgoing[0]["context"]["span_id"]  # type: ignore[index]


def test_the_metrics_endpoint_serves_the_standard_grpc_series(
    tenant: Tenant, user_service: harness.ServiceProcess
) -> None:
    tenant.users.GetCurrentUser(user_pb2.GetCurrentUserRequest(), metadata=tenant.bearer(), timeout=10)
    harness.refused(tenant.users.GetCurrentUser, user_pb2.GetCurrentUserRequest(), timeout=10)

    labels = 'grpc_method="GetCurrentUser",grpc_service="stockmesh.user.v1.UserService",grpc_type="UNARY"'
    refused_series = f'grpc_server_handled_total{{grpc_code="UNAUTHENTICATED",{labels}}}'
    # A call is counted just after its status is sent: allow the server that moment.
    deadline = time.monotonic() + 5
    while True:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{user_service.metrics_port}/metrics", timeout=5
        ) as response:
            text = response.read().decode()
        if refused_series in text or time.monotonic() > deadline:
            break
        time.sleep(0.05)

    assert f"grpc_server_started_total{{{labels}}}" in text
    assert f'grpc_server_handled_total{{grpc_code="OK",{labels}}}' in text
    assert refused_series in text
    assert f'grpc_server_handling_seconds_bucket{{{labels},le="0.005"}}' in text
    assert "grpc_server_handling_seconds_count" in text


def test_a_malformed_resource_name_is_bad_input_naming_the_field(tenant: Tenant) -> None:
    refusal = harness.refused(
        tenant.users.GetUser, user_pb2.GetUserRequest(name="tenants/x"), metadata=tenant.bearer(), timeout=10
    )

    assert refusal.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "name" in refusal.field_violations
