"""Who is calling: the verified user (from the access token) and the workload
(from the mTLS peer certificate), and the per-RPC rules that admit them."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import jwt

from kit import errors
from kit.identity import Principal, Role

__all__ = [
    "ANONYMOUS",
    "ANY_USER",
    "PUBLIC",
    "Caller",
    "KeySet",
    "Principal",
    "Role",
    "Rule",
    "TokenVerifier",
]

log = logging.getLogger(__name__)

ISSUER = "stockmesh-user"
AUDIENCE = "stockmesh"
ALGORITHM = "ES256"
REQUIRED_CLAIMS = ("exp", "iat", "sub", "tid", "jti", "roles")


@dataclass(frozen=True)
class Caller:
    """Everything known about the current call's origin."""

    principal: Principal | None
    peer: str | None  # the calling workload's SPIFFE ID
    token: str | None  # the bearer token, forwarded on calls made on the user's behalf


ANONYMOUS = Caller(None, None, None)
current: ContextVar[Caller] = ContextVar("caller", default=ANONYMOUS)


def principal() -> Principal:
    """The authenticated user of the current call (the rules guarantee one)."""
    who = current.get().principal
    if who is None:
        raise errors.Unauthenticated("this call needs an access token", reason="TOKEN_MISSING")
    return who


TENANT_HEADER = "x-stockmesh-tenant"


@dataclass(frozen=True)
class Rule:
    """Who may call one RPC: anyone (public), any user, or users with one of
    `roles`; and which services (by service account) may call it without a
    user, for system work within a tenant they name in TENANT_HEADER."""

    public: bool = False
    roles: frozenset[Role] | None = None
    services: frozenset[str] = frozenset()

    def admit(self, who: Principal | None, method: str) -> None:
        if self.public:
            return
        if who is not None and who.service:
            if who.service not in self.services:
                raise errors.PermissionDenied(
                    f"{method} does not take system calls from {who.service}", reason="SERVICE_NOT_ALLOWED"
                )
            return
        if who is None:
            raise errors.Unauthenticated(
                "missing bearer token in the authorization metadata", reason="TOKEN_MISSING"
            )
        if self.roles is not None and not who.holds_any(self.roles):
            needed = ", ".join(sorted(r.value for r in self.roles | {Role.ADMIN}))
            raise errors.PermissionDenied(
                f"{method} needs one of the roles: {needed}",
                reason="ROLE_REQUIRED",
                metadata={"required_roles": needed},
            )


PUBLIC = Rule(public=True)
ANY_USER = Rule()


def roles(*allowed: Role, services: frozenset[str] = frozenset()) -> Rule:
    return Rule(roles=frozenset(allowed), services=services)


def service_principal(account: str, metadata: Mapping[str, str | bytes]) -> Principal:
    """The principal of a service's system call: the tenant comes from the
    call's metadata, trusted because the mTLS identity is that service's."""
    tenant = metadata.get(TENANT_HEADER)
    if not isinstance(tenant, str) or not tenant:
        raise errors.Unauthenticated(
            f"a call without a user token must name its tenant in {TENANT_HEADER}", reason="TENANT_MISSING"
        )
    return Principal(user_id="", tenant_id=tenant, roles=frozenset(), token_id="", service=account)


def account_of(spiffe_id: str | None) -> str:
    """The service account of a SPIFFE id (spiffe://<domain>/ns/<ns>/sa/<account>)."""
    if not spiffe_id:
        return ""
    head, _, account = spiffe_id.rpartition("/sa/")
    return account if head.startswith("spiffe://") and "/" not in account else ""


Jwk = dict[str, Any]


class KeySet:
    """Verification keys by `kid`, fetched from a JWKS source and cached.

    An unknown `kid` triggers a refetch (the signer rotated its key), at most
    once per `min_refetch_seconds`, so forged kids cannot make us hammer the
    source.
    """

    def __init__(
        self,
        fetch: Callable[[], Awaitable[Sequence[Jwk]]],
        *,
        ttl_seconds: float = 300.0,
        min_refetch_seconds: float = 5.0,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl_seconds
        self._min_refetch = min_refetch_seconds
        self._keys: dict[str, Any] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def get(self, kid: str) -> Any | None:
        now = time.monotonic()
        stale = now - self._fetched_at > self._ttl
        unknown = kid not in self._keys and now - self._fetched_at > self._min_refetch
        if stale or unknown:
            await self._refresh(since=self._fetched_at)
        return self._keys.get(kid)

    async def _refresh(self, since: float) -> None:
        async with self._lock:
            if self._fetched_at != since:
                return  # another task refreshed while we waited
            try:
                jwks = await self._fetch()
            except errors.ServiceError as exc:
                if self._keys:
                    log.warning("jwks refresh failed; keeping cached keys", extra={"error": str(exc)})
                    return
                raise errors.Unavailable(
                    "cannot fetch token verification keys", reason="JWKS_UNAVAILABLE"
                ) from exc
            keys = {}
            for jwk in jwks:
                try:
                    keys[jwk["kid"]] = jwt.PyJWK(jwk, algorithm=ALGORITHM).key
                except (jwt.PyJWKError, KeyError):
                    log.warning("ignoring unusable JWK", extra={"kid": jwk.get("kid")})
            self._keys = keys
            self._fetched_at = time.monotonic()


class TokenVerifier:
    """Verifies ES256 access tokens locally against a `KeySet`.

    A client sends the same token with every call for its whole lifetime, so
    a verified token is remembered (until it expires) and the signature check
    is done once per token, not once per call.
    """

    CACHE_SIZE = 4096

    def __init__(self, keys: KeySet, *, leeway_seconds: int = 30) -> None:
        self.keys = keys
        self.leeway = leeway_seconds
        self._verified: dict[str, tuple[Principal, float]] = {}

    async def verify(self, token: str) -> Principal:
        known = self._verified.get(token)
        if known is not None and time.time() < known[1] + self.leeway:
            return known[0]
        principal, expires = await self._verify(token)
        if len(self._verified) >= self.CACHE_SIZE:
            self._verified.pop(next(iter(self._verified)))
        self._verified[token] = (principal, expires)
        return principal

    async def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise errors.Unauthenticated("malformed access token", reason="TOKEN_INVALID") from None
        # Only our one algorithm: refuses "none" and any HMAC-with-public-key trick.
        if header.get("alg") != ALGORITHM or not isinstance(header.get("kid"), str):
            raise errors.Unauthenticated("access token algorithm not accepted", reason="TOKEN_INVALID")
        key = await self.keys.get(header["kid"])
        if key is None:
            raise errors.Unauthenticated("access token signed by an unknown key", reason="TOKEN_INVALID")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                leeway=self.leeway,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.ExpiredSignatureError:
            raise errors.Unauthenticated("access token expired", reason="TOKEN_EXPIRED") from None
        except jwt.InvalidTokenError as exc:
            raise errors.Unauthenticated(f"access token rejected: {exc}", reason="TOKEN_INVALID") from None
        try:
            granted = frozenset(Role(r) for r in claims["roles"])
        except (ValueError, TypeError):
            raise errors.Unauthenticated("access token has unknown roles", reason="TOKEN_INVALID") from None
        principal = Principal(
            user_id=str(claims["sub"]),
            tenant_id=str(claims["tid"]),
            roles=granted,
            token_id=str(claims["jti"]),
        )
        return principal, float(claims["exp"])


def bearer(metadata: Mapping[str, str | bytes]) -> str | None:
    value = metadata.get("authorization")
    if not isinstance(value, str):
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise errors.Unauthenticated(
            "authorization metadata must be 'Bearer <token>'", reason="TOKEN_INVALID"
        )
    return token.strip()
