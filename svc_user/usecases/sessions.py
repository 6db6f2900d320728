"""Sessions: login, refresh-token rotation and logout.

The password check (argon2, tens of milliseconds) runs outside any unit of
work so no lock waits on it. Token responses hold live secrets, so their
replay by request id is kept only briefly.
"""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from kit import errors, idempotency
from kit.errors import FieldViolation, InvalidArgument, Violations
from kit.uow import Units
from svc_user import commands, crypto, domain
from svc_user.domain import RefreshState, SigningKey, User
from svc_user.ports import UserUnit
from svc_user.usecases import Done

TOKEN_REPLAY_RETENTION = timedelta(minutes=5)


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime


@dataclass(frozen=True)
class LoginResult:
    tokens: TokenPair
    user: User


@dataclass(frozen=True)
class RefreshResult:
    """A refused refresh that changed state (a reuse revoked the family) is a
    result too, so a replay of the same request answers the same way."""

    tokens: TokenPair | None
    refused: str = ""  # reason, when tokens is None


# Which key signs a token issued in a unit of work (KeyRing.signing_key).
Signer = Callable[[UserUnit], Awaitable[SigningKey | None]]


class Sessions:
    def __init__(
        self,
        units: Units[UserUnit],
        *,
        access_ttl: timedelta = timedelta(minutes=15),
        refresh_ttl: timedelta = timedelta(days=30),
        signer: Signer | None = None,
    ) -> None:
        self.units = units
        self.signer: Signer = signer or (lambda uow: uow.signing_keys.active())
        self.now = units.now
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl

    async def login(self, request_id: str, cmd: commands.Login) -> LoginResult:
        violations = Violations()
        if not cmd.tenant:
            violations.add("tenant", "required")
        if not cmd.email:
            violations.add("email", "required")
        if not cmd.password:
            violations.add("password", "required")
        violations.raise_if_any()
        # Checked before the password, so a bad id costs no hash.
        idempotency.validate_request_id(request_id)
        email = domain.normalize_email(cmd.email)
        async with self.units.read() as uow:
            tenant = await uow.tenants.by_slug(cmd.tenant.strip().lower())
            found = await uow.users.credentials(tenant.id, email) if tenant else None
        now = self.now()
        if found is not None and found.locked_until is not None and found.locked_until > now:
            raise errors.ResourceExhausted(
                "too many failed logins; try again later",
                retry_after_seconds=(found.locked_until - now).total_seconds(),
                reason="LOGIN_LOCKED",
            )
        if not await crypto.verify_password(found.password_hash if found else None, cmd.password):
            if found is not None:
                await self._count_failure(found.user.id)
            raise errors.Unauthenticated("invalid tenant, email or password", reason="INVALID_CREDENTIALS")
        assert found is not None
        assert tenant is not None
        user = found.user
        if user.disabled:
            raise errors.PermissionDenied("this user is disabled", reason="USER_DISABLED")

        async def work(uow: UserUnit) -> LoginResult:
            await uow.users.record_login(user.id, now)
            tokens = await self._issue(uow, user, family_id=str(uuid.uuid4()))
            return LoginResult(tokens, dataclasses.replace(user, last_login_at=now))

        # The password was verified above, so a replay answers only its owner.
        scope = f"login:{tenant.id}:{hashlib.sha256(email.encode()).hexdigest()[:16]}"
        key = idempotency.Key(scope, request_id, "Login")
        once = self.units.once(key, {"email": email}, LoginResult, retention=TOKEN_REPLAY_RETENTION)
        return await once(work)

    async def _count_failure(self, user_id: str) -> None:
        async def work(uow: UserUnit) -> None:
            failures = await uow.users.count_failed_login(user_id)
            until = domain.lock_after_failure(failures, self.now())
            if until is not None:
                await uow.users.lock(user_id, until)

        await self.units.run(work)

    async def _issue(self, uow: UserUnit, user: User, *, family_id: str) -> TokenPair:
        key = await self.signer(uow)
        if key is None:
            raise errors.Unavailable("no signing key yet", reason="NO_SIGNING_KEY")
        now = self.now()
        access_expires = now + self.access_ttl
        access = crypto.access_token(
            kid=key.kid,
            private_pem=key.private_pem,
            user_id=user.id,
            tenant_id=user.tenant_id,
            roles=user.roles,
            issued_at=now,
            expires_at=access_expires,
        )
        refresh, refresh_hash = crypto.new_refresh_token()
        record = domain.RefreshToken(
            id=str(uuid.uuid4()),
            family_id=family_id,
            user_id=user.id,
            tenant_id=user.tenant_id,
            expires_at=now + self.refresh_ttl,
            used_at=None,
            revoked_at=None,
        )
        await uow.refresh_tokens.add(record, refresh_hash, now)
        return TokenPair(access, access_expires, refresh, record.expires_at)

    async def refresh(self, request_id: str, refresh_token: str) -> TokenPair:
        if not refresh_token:
            raise InvalidArgument([FieldViolation("refresh_token", "required")])
        token_hash = crypto.refresh_token_hash(refresh_token)

        async def work(uow: UserUnit) -> RefreshResult:
            now = self.now()
            token = await uow.refresh_tokens.by_hash(token_hash)
            if token is None:
                return RefreshResult(None, "REFRESH_TOKEN_INVALID")
            state = token.state(now)
            if state is RefreshState.SPENT:
                # A rotated token came back: whoever holds the family may be a
                # thief, so every token of the family stops working.
                await uow.refresh_tokens.revoke_family(token.family_id, now)
                return RefreshResult(None, "REFRESH_TOKEN_REUSED")
            if state is not RefreshState.VALID:
                return RefreshResult(None, f"REFRESH_TOKEN_{state.name}")
            user = await uow.users.get(token.tenant_id, token.user_id)
            if user is None or user.disabled:
                await uow.refresh_tokens.revoke_family(token.family_id, now)
                return RefreshResult(None, "USER_DISABLED")
            await uow.refresh_tokens.spend(token.id, now)
            return RefreshResult(await self._issue(uow, user, family_id=token.family_id))

        key = idempotency.Key(f"refresh:{token_hash[:48]}", request_id, "RefreshToken")
        once = self.units.once(key, {}, RefreshResult, retention=TOKEN_REPLAY_RETENTION)
        result = await once(work)
        if result.tokens is None:
            raise errors.Unauthenticated("refresh token not accepted; log in again", reason=result.refused)
        return result.tokens

    async def logout(self, request_id: str, refresh_token: str) -> None:
        if not refresh_token:
            raise InvalidArgument([FieldViolation("refresh_token", "required")])
        token_hash = crypto.refresh_token_hash(refresh_token)

        async def work(uow: UserUnit) -> Done:
            now = self.now()
            token = await uow.refresh_tokens.by_hash(token_hash)
            if token is not None:
                await uow.refresh_tokens.revoke_family(token.family_id, now)
            # An unknown token logs out nothing, and says so no differently:
            # logout must not become an oracle for valid tokens.
            return Done(now)

        key = idempotency.Key(f"logout:{token_hash[:48]}", request_id, "Logout")
        await self.units.once(key, {}, Done)(work)
