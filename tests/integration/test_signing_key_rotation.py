"""A signing key mounted from a secret, replaced in place, over real svc_user
processes on both databases: two replicas share one database; each signs
with the file it reads, every replica's JWKS names both keys while tokens of
the old one may live, and the old one is withdrawn once they have expired."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest

from stockmesh.user.v1 import user_pb2, user_pb2_grpc
from svc_user import crypto
from tests import harness
from tests.conftest import PASSWORD, Stacks, create_tenant, new_id

ACCESS_SECONDS = 4
GRACE_SECONDS = 1


@pytest.fixture
def replicas(
    stacks: Stacks, backend: str, tmp_path: Path
) -> Iterator[tuple[Path, list[harness.ServiceProcess]]]:
    secret = tmp_path / "signing-key.pem"
    secret.write_text(crypto.new_signing_key()[1])
    env = {
        "STOCKMESH_USER_SIGNING_KEY_FILE": str(secret),
        "STOCKMESH_USER_KEY_RELOAD_SECONDS": "0.2",
        "STOCKMESH_USER_KEY_GRACE_SECONDS": str(GRACE_SECONDS),
        "STOCKMESH_USER_ACCESS_TOKEN_SECONDS": str(ACCESS_SECONDS),
        "STOCKMESH_TOKEN_LEEWAY_SECONDS": "0",
        "STOCKMESH_DATABASE_POOL_SIZE": "3",
    }
    database = stacks.database(backend, "user-keys")
    started = []
    try:
        for n in range(2):
            home = stacks.factory.mktemp(f"user-keys-{n}")
            started.append(harness.ServiceProcess("user", home, stacks.tls_dir, database, env=env).start())
        yield secret, started
    finally:
        for process in started:
            process.stop()


def login(replica: harness.ServiceProcess, slug: str, email: str) -> str:
    with replica.channel() as channel:
        request = user_pb2.LoginRequest(request_id=new_id(), tenant=slug, email=email, password=PASSWORD)
        reply = user_pb2_grpc.AuthServiceStub(channel).Login(request, timeout=10)
    return str(reply.tokens.access_token)


def published(replica: harness.ServiceProcess) -> set[str]:
    with replica.channel() as channel:
        reply = user_pb2_grpc.AuthServiceStub(channel).GetJwks(user_pb2.GetJwksRequest(), timeout=10)
    return {key.kid for key in reply.keys}


def kid(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


def until(condition: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "the replicas did not get there in time"
        time.sleep(0.1)


def test_a_replaced_secret_signs_new_tokens_and_the_old_key_verifies_until_its_tokens_expire(
    replicas: tuple[Path, list[harness.ServiceProcess]],
) -> None:
    secret, (first, second) = replicas
    slug, email = create_tenant(first.database_url)
    old_kid = crypto.signing_key_of_pem(secret.read_text())[0]
    old_token = login(first, slug, email)
    assert kid(old_token) == kid(login(second, slug, email)) == old_kid

    secret.write_text(crypto.new_signing_key()[1])  # the kubelet swaps the mounted file
    new_kid = crypto.signing_key_of_pem(secret.read_text())[0]
    until(lambda: kid(login(first, slug, email)) == new_kid == kid(login(second, slug, email)))

    # Both keys published by both replicas: a token of either verifies anywhere.
    assert published(first) == published(second) == {old_kid, new_kid}
    with first.channel() as channel:
        me = user_pb2_grpc.UserServiceStub(channel).GetCurrentUser(
            user_pb2.GetCurrentUserRequest(), metadata=[("authorization", f"Bearer {old_token}")], timeout=10
        )
    assert me.user.email == email

    # Once the old key's last token has expired (and the grace is over), it is withdrawn.
    until(
        lambda: published(first) == published(second) == {new_kid},
        timeout=ACCESS_SECONDS + GRACE_SECONDS + 10,
    )
