"""Password hashing (argon2id) and token material: signing keys, access JWTs,
opaque refresh tokens. The CPU-heavy hashing runs in a worker thread so the
event loop keeps serving other calls."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import uuid
from datetime import datetime

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from kit.auth import ALGORITHM, AUDIENCE, ISSUER, Role

# OWASP's argon2id baseline: 19 MiB, 2 iterations, 1 lane.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when the email is unknown, so both paths take as long.
_DUMMY_HASH = _hasher.hash("not-a-real-password-0")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    def verify() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)


def new_refresh_token() -> tuple[str, str]:
    """(token for the client, hash to store): only the hash is kept."""
    token = secrets.token_urlsafe(32)
    return token, refresh_token_hash(token)


def refresh_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_signing_key() -> tuple[str, str, str]:
    """(kid, private PEM, public JWK as JSON) of a fresh P-256 key."""
    key = ec.generate_private_key(ec.SECP256R1())
    kid = uuid.uuid4().hex
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return kid, pem.decode(), json.dumps(_public_jwk(key.public_key(), kid))


def signing_key_of_pem(private_pem: str) -> tuple[str, str]:
    """(kid, public JWK as JSON) of a P-256 private key given as PEM (a mounted secret). The kid
    is the key's RFC 7638 thumbprint, so every replica reading the same file names it alike."""
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError(f"the signing key must be a P-256 (ES256) private key, not {type(key).__name__}")
    members = _public_jwk(key.public_key(), "")
    required = {name: members[name] for name in ("crv", "kty", "x", "y")}
    canonical = json.dumps(required, sort_keys=True, separators=(",", ":")).encode()
    kid = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()
    return kid, json.dumps(_public_jwk(key.public_key(), kid))


def _public_jwk(public: ec.EllipticCurvePublicKey, kid: str) -> dict[str, str]:
    numbers = public.public_numbers()

    def b64(n: int) -> str:
        return base64.urlsafe_b64encode(n.to_bytes(32, "big")).rstrip(b"=").decode()

    return {
        "kty": "EC",
        "crv": "P-256",
        "x": b64(numbers.x),
        "y": b64(numbers.y),
        "kid": kid,
        "alg": ALGORITHM,
        "use": "sig",
    }


def access_token(
    *,
    kid: str,
    private_pem: str,
    user_id: str,
    tenant_id: str,
    roles: tuple[Role, ...],
    issued_at: datetime,
    expires_at: datetime,
) -> str:
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": user_id,
        "tid": tenant_id,
        "roles": sorted(r.value for r in roles),
        "iat": int(issued_at.timestamp()),
        "exp": int(expires_at.timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, private_pem, algorithm=ALGORITHM, headers={"kid": kid})
