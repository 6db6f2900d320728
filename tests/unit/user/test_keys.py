"""Specifications of signing keys: the first key, rotation, the published JWKS,
and a key mounted from a secret that is replaced in place."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from kit import auth, errors
from kit.memory import Memory
from svc_user import commands, crypto
from svc_user.usecases.keys import KeyRing
from svc_user.usecases.sessions import Sessions
from svc_user.usecases.tenants import Tenancy
from tests.fakes import user as fake
from tests.unit.user.conftest import ACCESS_TTL, KEY_GRACE, PASSWORD, Bootstrap, Clock, Svc


async def access_token(svc: Svc, request_id: str) -> str:
    result = await svc.sessions.login(request_id, commands.Login("acme", "admin@acme.test", PASSWORD))
    return result.tokens.access_token


async def test_the_first_start_creates_one_key_and_later_starts_none(svc: Svc) -> None:
    first = await svc.keys.jwks()

    await svc.keys.start()

    assert await svc.keys.jwks() == first
    assert len(first) == 1
    assert {k: first[0][k] for k in ("kty", "crv", "alg", "use")} == {
        "kty": "EC",
        "crv": "P-256",
        "alg": auth.ALGORITHM,
        "use": "sig",
    }
    assert "d" not in first[0]  # only the public half is published


async def test_a_rotated_key_signs_new_tokens_and_the_old_one_still_verifies(
    svc: Svc, acme: Bootstrap
) -> None:
    before = await access_token(svc, "before")
    svc.clock.advance(timedelta(seconds=1))  # the newest key signs

    kid = await svc.keys.rotate_signing_key()
    after = await access_token(svc, "after")

    verifier = auth.TokenVerifier(auth.KeySet(svc.keys.jwks))
    assert [key["kid"] for key in await svc.keys.jwks()][-1] == kid
    assert len(await svc.keys.jwks()) == 2
    assert json.loads(svc.memory.state.signing_keys[kid].key.public_jwk)["kid"] == kid
    assert (await verifier.verify(before)).user_id == (await verifier.verify(after)).user_id == acme.admin.id
    assert signed_by(after) == kid != signed_by(before)


def signed_by(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


async def test_after_a_rotation_old_tokens_verify_until_they_expire_then_their_key_is_withdrawn(
    svc: Svc, acme: Bootstrap
) -> None:
    old = await access_token(svc, "old")
    old_kid = signed_by(old)
    svc.clock.advance(timedelta(seconds=1))
    await svc.keys.rotate_signing_key()
    verifier = auth.TokenVerifier(auth.KeySet(svc.keys.jwks))

    # Just before the old token expires: its key is still published, the token verifies.
    svc.clock.advance(ACCESS_TTL - timedelta(seconds=2))
    assert (await verifier.verify(old)).user_id == acme.admin.id
    assert old_kid in published(await svc.keys.jwks())

    # Once every token it signed has expired (and the grace is over), the key is withdrawn.
    svc.clock.advance(KEY_GRACE + timedelta(seconds=2))
    assert old_kid not in published(await svc.keys.jwks())
    assert len(await svc.keys.jwks()) == 1


def published(jwks: list[dict[str, object]]) -> set[str]:
    return {str(key["kid"]) for key in jwks}


async def test_a_mounted_key_signs_and_a_replaced_secret_takes_over_without_breaking_tokens(
    clock: Clock, tmp_path: Path
) -> None:
    secret = tmp_path / "signing-key.pem"
    secret.write_text(crypto.new_signing_key()[1])
    memory = Memory(fake.UserState())
    units = fake.units(clock, memory)
    ring = KeyRing(units, verify_for=ACCESS_TTL + KEY_GRACE, key_file=secret)
    await ring.start()
    sessions = Sessions(units, access_ttl=ACCESS_TTL, signer=ring.signing_key)
    await Tenancy(units).create_tenant(commands.CreateTenant("acme", "Acme", "admin@acme.test", PASSWORD))
    login = commands.Login("acme", "admin@acme.test", PASSWORD)
    first = (await sessions.login("first", login)).tokens.access_token

    assert not await ring.reload()  # the same file: nothing changes
    secret.write_text(crypto.new_signing_key()[1])  # the secret is replaced in place
    assert await ring.reload()
    clock.advance(timedelta(seconds=1))
    second = (await sessions.login("second", login)).tokens.access_token

    verifier = auth.TokenVerifier(auth.KeySet(ring.jwks))
    assert signed_by(first) != signed_by(second) == crypto.signing_key_of_pem(secret.read_text())[0]
    for token in (first, second):
        await verifier.verify(token)
    # Only public halves reach the shared table: the private key stays in the file.
    assert {row.key.private_pem for row in memory.state.signing_keys.values()} == {""}
    with pytest.raises(errors.FailedPrecondition):
        await ring.rotate_signing_key()
    clock.advance(ACCESS_TTL + KEY_GRACE)
    assert published(await ring.jwks()) == {signed_by(second)}


def test_a_mounted_key_is_named_by_its_thumbprint_and_must_be_p256() -> None:
    _, pem, _ = crypto.new_signing_key()
    assert crypto.signing_key_of_pem(pem) == crypto.signing_key_of_pem(pem)  # every replica alike
    rsa_pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )
    with pytest.raises(ValueError, match="P-256"):
        crypto.signing_key_of_pem(rsa_pem)
