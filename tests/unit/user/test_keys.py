"""Specifications of signing keys: the first key, rotation, the published JWKS."""

from __future__ import annotations

import json
from datetime import timedelta

import jwt
import pytest

from kit import auth, errors
from svc_user import commands
from tests.unit.user.conftest import PASSWORD, Bootstrap, Svc


async def access_token(svc: Svc, request_id: str) -> str:
    result = await svc.sessions.login(request_id, commands.Login("acme", "admin@acme.test", PASSWORD))
    return result.tokens.access_token


async def test_the_first_start_creates_one_key_and_later_starts_none(svc: Svc) -> None:
    first = await svc.keys.jwks()

    await svc.keys.ensure_signing_key()

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


async def test_a_token_of_a_key_no_longer_published_is_refused(svc: Svc, acme: Bootstrap) -> None:
    token = await access_token(svc, "l1")
    for row in svc.memory.state.signing_keys.values():
        row.retired_at = svc.clock.now
    await svc.keys.rotate_signing_key()

    with pytest.raises(errors.Unauthenticated) as refused:
        await auth.TokenVerifier(auth.KeySet(svc.keys.jwks)).verify(token)

    assert refused.value.reason == "TOKEN_INVALID"
