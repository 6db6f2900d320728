"""Specifications of access-token verification, key rotation, per-RPC rules and bearer parsing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from kit import auth, errors
from kit.auth import ANY_USER, PUBLIC, Jwk, KeySet, Principal, Role, TokenVerifier


@dataclass(frozen=True)
class Signer:
    """An ES256 signing key and its public JWK, as svc_user publishes it."""

    kid: str
    key: ec.EllipticCurvePrivateKey

    @property
    def jwk(self) -> Jwk:
        numbers = self.key.public_key().public_numbers()
        return {
            "kty": "EC",
            "crv": "P-256",
            "x": b64(numbers.x.to_bytes(32, "big")),
            "y": b64(numbers.y.to_bytes(32, "big")),
            "kid": self.kid,
            "alg": "ES256",
            "use": "sig",
        }

    @property
    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, **overrides: Any) -> str:
        return jwt.encode(claims(**overrides), self.key, algorithm="ES256", headers={"kid": self.kid})


@dataclass
class JwksSource:
    """The published keys, counting how often they are fetched."""

    keys: list[Jwk] = field(default_factory=list)
    fetches: int = 0

    async def fetch(self) -> list[Jwk]:
        self.fetches += 1
        return list(self.keys)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(value: dict[str, Any]) -> str:
    return b64(json.dumps(value).encode())


def new_signer(kid: str | None = None) -> Signer:
    return Signer(kid or uuid.uuid4().hex, ec.generate_private_key(ec.SECP256R1()))


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": auth.ISSUER,
        "aud": auth.AUDIENCE,
        "sub": "user-ada",
        "tid": "tenant-acme",
        "roles": ["clerk", "viewer"],
        "iat": now,
        "exp": now + 900,
        "jti": "token-1",
    } | overrides


def principal(*roles: Role) -> Principal:
    return Principal("user-ada", "tenant-acme", frozenset(roles), "token-1")


@pytest.fixture
def signer() -> Signer:
    return new_signer()


@pytest.fixture
def source(signer: Signer) -> JwksSource:
    return JwksSource([signer.jwk])


@pytest.fixture
def verifier(source: JwksSource) -> TokenVerifier:
    return TokenVerifier(KeySet(source.fetch))


async def refused(verifier: TokenVerifier, token: str) -> errors.Unauthenticated:
    with pytest.raises(errors.Unauthenticated) as caught:
        await verifier.verify(token)
    return caught.value


async def test_a_valid_token_proves_the_user_tenant_and_roles(
    signer: Signer, verifier: TokenVerifier
) -> None:
    assert await verifier.verify(signer.sign()) == Principal(
        "user-ada", "tenant-acme", frozenset({Role.CLERK, Role.VIEWER}), "token-1"
    )


async def test_an_expired_token_is_refused_as_expired(signer: Signer, verifier: TokenVerifier) -> None:
    now = int(time.time())

    error = await refused(verifier, signer.sign(iat=now - 1000, exp=now - 120))

    assert error.reason == "TOKEN_EXPIRED"


async def test_a_token_expired_within_the_leeway_is_accepted(signer: Signer, verifier: TokenVerifier) -> None:
    now = int(time.time())

    assert (await verifier.verify(signer.sign(iat=now - 1000, exp=now - 5))).user_id == "user-ada"


async def test_a_token_signed_by_another_key_under_the_same_kid_is_refused(
    signer: Signer, verifier: TokenVerifier
) -> None:
    forged = new_signer(signer.kid).sign(roles=["admin"])

    assert (await refused(verifier, forged)).reason == "TOKEN_INVALID"


async def test_an_unsigned_token_is_refused(signer: Signer, verifier: TokenVerifier) -> None:
    header = segment({"alg": "none", "typ": "JWT", "kid": signer.kid})
    token = f"{header}.{segment(claims(roles=['admin']))}."

    assert (await refused(verifier, token)).reason == "TOKEN_INVALID"


async def test_a_token_hmac_signed_with_the_public_key_is_refused(
    signer: Signer, verifier: TokenVerifier
) -> None:
    header = segment({"alg": "HS256", "typ": "JWT", "kid": signer.kid})
    unsigned = f"{header}.{segment(claims(roles=['admin']))}"
    mac = hmac.new(signer.public_pem, unsigned.encode(), hashlib.sha256).digest()

    assert (await refused(verifier, f"{unsigned}.{b64(mac)}")).reason == "TOKEN_INVALID"


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c", "e30.e30."])
async def test_a_malformed_token_is_refused(verifier: TokenVerifier, token: str) -> None:
    assert (await refused(verifier, token)).reason == "TOKEN_INVALID"


@pytest.mark.parametrize(("claim", "value"), [("aud", "someone-else"), ("iss", "evil-issuer")])
async def test_a_token_for_another_audience_or_from_another_issuer_is_refused(
    signer: Signer, verifier: TokenVerifier, claim: str, value: str
) -> None:
    assert (await refused(verifier, signer.sign(**{claim: value}))).reason == "TOKEN_INVALID"


@pytest.mark.parametrize("missing", auth.REQUIRED_CLAIMS)
async def test_a_token_missing_a_required_claim_is_refused(
    signer: Signer, verifier: TokenVerifier, missing: str
) -> None:
    payload = claims()
    del payload[missing]
    token = jwt.encode(payload, signer.key, algorithm="ES256", headers={"kid": signer.kid})

    assert (await refused(verifier, token)).reason == "TOKEN_INVALID"


@pytest.mark.parametrize("roles", [["admin", "overlord"], "admin", [["admin"]], None])
async def test_a_token_with_an_unknown_or_malformed_role_is_refused(
    signer: Signer, verifier: TokenVerifier, roles: object
) -> None:
    assert (await refused(verifier, signer.sign(roles=roles))).reason == "TOKEN_INVALID"


async def test_an_unknown_kid_refetches_the_keys_once_and_finds_a_rotated_key(
    signer: Signer, source: JwksSource
) -> None:
    verifier = TokenVerifier(KeySet(source.fetch, min_refetch_seconds=0.0))
    await verifier.verify(signer.sign())
    rotated = new_signer()
    source.keys.append(rotated.jwk)

    assert (await verifier.verify(rotated.sign(sub="user-grace"))).user_id == "user-grace"
    assert source.fetches == 2


async def test_known_keys_are_not_refetched_within_their_ttl(signer: Signer, source: JwksSource) -> None:
    verifier = TokenVerifier(KeySet(source.fetch, min_refetch_seconds=0.0))

    for _ in range(3):
        await verifier.verify(signer.sign())

    assert source.fetches == 1


async def test_unknown_kids_within_the_refetch_interval_do_not_refetch(
    signer: Signer, source: JwksSource
) -> None:
    verifier = TokenVerifier(KeySet(source.fetch, min_refetch_seconds=60.0))
    await verifier.verify(signer.sign())

    for _ in range(3):
        assert (await refused(verifier, new_signer().sign())).reason == "TOKEN_INVALID"

    assert source.fetches == 1


async def test_unreachable_keys_make_verification_unavailable(signer: Signer) -> None:
    async def down() -> list[Jwk]:
        raise errors.Unavailable("svc_user unreachable")

    with pytest.raises(errors.Unavailable) as caught:
        await TokenVerifier(KeySet(down)).verify(signer.sign())

    assert caught.value.reason == "JWKS_UNAVAILABLE"


def test_a_public_rule_admits_an_anonymous_caller() -> None:
    PUBLIC.admit(None, "/stockmesh.user.v1.AuthService/Login")


def test_an_any_user_rule_refuses_an_anonymous_caller() -> None:
    with pytest.raises(errors.Unauthenticated) as caught:
        ANY_USER.admit(None, "/stockmesh.user.v1.UserService/GetCurrentUser")

    assert caught.value.reason == "TOKEN_MISSING"


def test_an_any_user_rule_admits_any_signed_in_user() -> None:
    ANY_USER.admit(principal(Role.VIEWER), "/stockmesh.user.v1.UserService/GetCurrentUser")


def test_a_role_rule_refuses_a_user_without_the_role() -> None:
    with pytest.raises(errors.PermissionDenied) as caught:
        auth.roles(Role.MANAGER, Role.CLERK).admit(principal(Role.VIEWER), "CreateProduct")

    assert caught.value.reason == "ROLE_REQUIRED"
    assert caught.value.metadata == {"required_roles": "admin, clerk, manager"}


def test_a_role_rule_admits_a_user_holding_one_of_the_roles() -> None:
    auth.roles(Role.MANAGER, Role.CLERK).admit(principal(Role.CLERK, Role.VIEWER), "CreateProduct")


@pytest.mark.parametrize("role", list(Role))
def test_an_admin_passes_every_role_rule(role: Role) -> None:
    auth.roles(role).admit(principal(Role.ADMIN), "AnyMethod")


@pytest.mark.parametrize(("value", "token"), [("Bearer abc.def.ghi", "abc.def.ghi"), ("bearer  xyz ", "xyz")])
def test_a_bearer_authorization_yields_its_token(value: str, token: str) -> None:
    assert auth.bearer({"authorization": value}) == token


def test_no_authorization_means_no_token() -> None:
    assert auth.bearer({"x-request-id": "r-1"}) is None


@pytest.mark.parametrize("value", ["Basic YWRhOnB3", "Bearer", "Bearer   ", "abc.def.ghi"])
def test_an_authorization_that_is_not_a_bearer_token_is_refused(value: str) -> None:
    with pytest.raises(errors.Unauthenticated) as caught:
        auth.bearer({"authorization": value})

    assert caught.value.reason == "TOKEN_INVALID"
