"""Only mTLS peers with our CA get in; only genuine, unexpired ES256 tokens are accepted."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from grpc import StatusCode

from kit import tls
from stockmesh.user.v1 import user_pb2, user_pb2_grpc
from tests import harness
from tests.conftest import Tenant, auth_metadata, create_tenant

CURRENT = user_pb2.GetCurrentUserRequest()


def call_health(channel: grpc.Channel) -> None:
    user_pb2_grpc.AuthServiceStub(channel).GetJwks(user_pb2.GetJwksRequest(), timeout=3)


def test_a_plaintext_connection_is_refused(user_service: harness.ServiceProcess) -> None:
    with grpc.insecure_channel(user_service.address) as channel:
        assert harness.refused(call_health, channel).code == StatusCode.UNAVAILABLE


def test_a_tls_connection_without_a_client_certificate_is_refused(
    user_service: harness.ServiceProcess, tls_dir: Path
) -> None:
    credentials = grpc.ssl_channel_credentials(root_certificates=(tls_dir / tls.CA_CERT).read_bytes())
    options = [("grpc.ssl_target_name_override", "svc-user")]
    with grpc.secure_channel(user_service.address, credentials, options=options) as channel:
        assert harness.refused(call_health, channel).code == StatusCode.UNAVAILABLE


def test_a_client_certificate_from_another_ca_is_refused(
    user_service: harness.ServiceProcess, tls_dir: Path, tmp_path: Path
) -> None:
    tls.ensure_ca(tmp_path, trust_domain="elsewhere.test")
    stranger = tls.issue(tmp_path, "dev-client", "spiffe://elsewhere.test/ns/x/sa/dev-client")
    credentials = grpc.ssl_channel_credentials(
        root_certificates=(tls_dir / tls.CA_CERT).read_bytes(),
        private_key=stranger.key,
        certificate_chain=stranger.cert,
    )
    options = [("grpc.ssl_target_name_override", "svc-user")]
    with grpc.secure_channel(user_service.address, credentials, options=options) as channel:
        assert harness.refused(call_health, channel).code == StatusCode.UNAVAILABLE


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_token_with_alg_none_is_unauthenticated(tenant: Tenant) -> None:
    real = tenant.login().tokens.access_token
    header = jwt.get_unverified_header(real)
    claims = jwt.decode(real, options={"verify_signature": False})
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': header['kid']})}.{b64(claims)}."

    refusal = harness.refused(
        tenant.users.GetCurrentUser, CURRENT, metadata=auth_metadata(unsigned), timeout=10
    )

    assert (refusal.code, refusal.reason) == (StatusCode.UNAUTHENTICATED, "TOKEN_INVALID")


def test_a_token_forged_with_another_key_is_unauthenticated(tenant: Tenant) -> None:
    real = tenant.login().tokens.access_token
    header = jwt.get_unverified_header(real)
    claims = jwt.decode(real, options={"verify_signature": False})
    claims["roles"] = ["admin"]
    forged = jwt.encode(
        claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers={"kid": header["kid"]}
    )

    refusal = harness.refused(
        tenant.users.GetCurrentUser, CURRENT, metadata=auth_metadata(forged), timeout=10
    )

    assert (refusal.code, refusal.reason) == (StatusCode.UNAUTHENTICATED, "TOKEN_INVALID")


def test_a_call_without_a_token_is_unauthenticated(tenant: Tenant) -> None:
    refusal = harness.refused(tenant.users.GetCurrentUser, CURRENT, timeout=10)

    assert (refusal.code, refusal.reason) == (StatusCode.UNAUTHENTICATED, "TOKEN_MISSING")


@pytest.fixture(scope="module")
def short_lived_tokens(
    tls_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[harness.ServiceProcess]:
    home = tmp_path_factory.mktemp("short-tokens")
    service = harness.ServiceProcess(
        "user",
        home,
        tls_dir,
        f"sqlite:///{home / 'user.db'}",
        env={"STOCKMESH_USER_ACCESS_TOKEN_SECONDS": "1", "STOCKMESH_TOKEN_LEEWAY_SECONDS": "0"},
    )
    yield service.start()
    service.stop()


def test_an_expired_access_token_is_unauthenticated(short_lived_tokens: harness.ServiceProcess) -> None:
    slug, email = create_tenant(short_lived_tokens.database_url)
    with short_lived_tokens.channel() as channel:
        tenant = Tenant(slug, email, channel)
        token = tenant.login().tokens.access_token
        tenant.users.GetCurrentUser(CURRENT, metadata=auth_metadata(token), timeout=10)
        time.sleep(2.1)

        refusal = harness.refused(
            tenant.users.GetCurrentUser, CURRENT, metadata=auth_metadata(token), timeout=10
        )

    assert (refusal.code, refusal.reason) == (StatusCode.UNAUTHENTICATED, "TOKEN_EXPIRED")
