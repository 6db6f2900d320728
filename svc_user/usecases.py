"""svc_user's use cases: one method each, each owning its transaction.

Every mutating use case runs through `idempotency.once`, so a repeated
request_id returns the first result. Password checks (argon2, tens of
milliseconds) run outside any transaction so no lock waits on them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from kit import errors, etag, idempotency, paging
from kit.auth import Principal, Role
from kit.db import Database
from kit.errors import FieldViolation, InvalidArgument, NotFound, Violations
from svc_user import commands, crypto, domain, store
from svc_user.domain import RefreshState, Tenant, User

# Token responses are kept for replay only briefly: they hold live secrets.
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


@dataclass(frozen=True)
class Done:
    """The result of a use case whose answer is only that it happened."""

    at: datetime


@dataclass(frozen=True)
class Page:
    users: list[User]
    next_page_token: str


def user_name(user_id: str) -> str:
    return f"users/{user_id}"


def tenant_name(tenant_id: str) -> str:
    return f"tenants/{tenant_id}"


def user_etag(user: User) -> str:
    return etag.etag(user_name(user.id), user.version)


def tenant_etag(tenant: Tenant) -> str:
    return etag.etag(tenant_name(tenant.id), tenant.version)


class Accounts:
    def __init__(
        self,
        db: Database,
        *,
        access_ttl: timedelta = timedelta(minutes=15),
        refresh_ttl: timedelta = timedelta(days=30),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self.now = clock

    # --- keys ----------------------------------------------------------------

    async def ensure_signing_key(self) -> None:
        """Create the first signing key if there is none (first start)."""
        async with self.db.transaction() as conn:
            if await store.active_signing_key(conn) is None:
                kid, private_pem, jwk = crypto.new_signing_key()
                await store.insert_signing_key(conn, kid, private_pem, jwk, self.now())

    async def rotate_signing_key(self) -> str:
        """Add a new key that signs from now on; older keys still verify."""
        kid, private_pem, jwk = crypto.new_signing_key()
        async with self.db.transaction() as conn:
            await store.insert_signing_key(conn, kid, private_pem, jwk, self.now())
        return kid

    async def jwks(self) -> list[dict[str, Any]]:
        async with self.db.snapshot() as conn:
            return [json.loads(jwk) for jwk in await store.public_jwks(conn)]

    # --- tenants -------------------------------------------------------------

    async def create_tenant(self, cmd: commands.CreateTenant) -> tuple[Tenant, User]:
        """A tenant and its first admin (the bootstrap path, from the CLI)."""
        violations = Violations()
        domain.check_slug(cmd.slug, "slug", violations)
        email = domain.normalize_email(cmd.admin_email)
        domain.check_email(email, "email", violations)
        domain.check_password(cmd.admin_password, "password", violations, email=email)
        violations.raise_if_any()
        password_hash = await crypto.hash_password(cmd.admin_password)
        now = self.now()
        tenant = Tenant(str(uuid.uuid4()), cmd.slug, cmd.display_name or cmd.slug, now, now, 1)
        admin = User(
            id=str(uuid.uuid4()),
            tenant_id=tenant.id,
            email=email,
            display_name=cmd.admin_display_name or email,
            roles=(Role.ADMIN,),
            disabled=False,
            created_at=now,
            updated_at=now,
            last_login_at=None,
            version=1,
        )
        async with self.db.transaction() as conn:
            if await store.tenant_by_slug(conn, cmd.slug) is not None:
                raise errors.AlreadyExists("tenant", cmd.slug, field="slug")
            await store.insert_tenant(conn, tenant)
            await store.insert_user(conn, admin, password_hash)
        return tenant, admin

    async def get_tenant(self, who: Principal) -> Tenant:
        async with self.db.snapshot() as conn:
            tenant = await store.tenant_by_id(conn, who.tenant_id)
        if tenant is None:
            raise NotFound("tenant", tenant_name(who.tenant_id))
        return tenant

    async def update_tenant(self, who: Principal, request_id: str, cmd: commands.UpdateTenant) -> Tenant:
        violations = Violations()
        if cmd.display_name is not None:
            if not cmd.display_name.strip():
                violations.add("tenant.display_name", "required")
            domain.check_display_name(cmd.display_name, "tenant.display_name", violations)
        violations.raise_if_any()

        async def work(conn: AsyncConnection) -> Tenant:
            tenant = await store.tenant_by_id(conn, who.tenant_id)
            if tenant is None:
                raise NotFound("tenant", tenant_name(who.tenant_id))
            etag.check(tenant_name(tenant.id), tenant.version, cmd.etag)
            changed = dataclasses.replace(
                tenant,
                display_name=cmd.display_name if cmd.display_name is not None else tenant.display_name,
                updated_at=self.now(),
                version=tenant.version + 1,
            )
            if not await store.save_tenant(conn, changed, expected_version=tenant.version):
                raise errors.EtagMismatch(tenant_name(tenant.id))
            return changed

        key = idempotency.Key(who.tenant_id, request_id, "UpdateTenant")
        return await idempotency.once(self.db, store.idempotency_records, key, cmd, Tenant, work)

    # --- login, refresh, logout ----------------------------------------------

    async def login(self, request_id: str, cmd: commands.Login) -> LoginResult:
        violations = Violations()
        if not cmd.tenant:
            violations.add("tenant", "required")
        if not cmd.email:
            violations.add("email", "required")
        if not cmd.password:
            violations.add("password", "required")
        violations.raise_if_any()
        idempotency.validate_request_id(request_id)
        email = domain.normalize_email(cmd.email)
        async with self.db.snapshot() as conn:
            tenant = await store.tenant_by_slug(conn, cmd.tenant.strip().lower())
            found = await store.credentials(conn, tenant.id, email) if tenant else None
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
        if found.user.disabled:
            raise errors.PermissionDenied("this user is disabled", reason="USER_DISABLED")

        async def work(conn: AsyncConnection) -> LoginResult:
            await store.record_login(conn, found.user.id, now)
            tokens = await self._issue(conn, found.user, family_id=str(uuid.uuid4()))
            return LoginResult(tokens, dataclasses.replace(found.user, last_login_at=now))

        # The password was verified above, so a replay answers only its owner.
        scope = f"login:{tenant.id}:{hashlib.sha256(email.encode()).hexdigest()[:16]}"
        key = idempotency.Key(scope, request_id, "Login")
        return await idempotency.once(
            self.db,
            store.idempotency_records,
            key,
            {"email": email},
            LoginResult,
            work,
            retention=TOKEN_REPLAY_RETENTION,
        )

    async def _count_failure(self, user_id: str) -> None:
        async with self.db.transaction() as conn:
            failures = await store.record_failed_login(conn, user_id)
            until = domain.lock_after_failure(failures, self.now())
            if until is not None:
                await store.lock_user(conn, user_id, until)

    async def _issue(self, conn: AsyncConnection, user: User, *, family_id: str) -> TokenPair:
        key = await store.active_signing_key(conn)
        if key is None:
            raise errors.Unavailable("no signing key yet", reason="NO_SIGNING_KEY")
        now = self.now()
        access_expires = now + self.access_ttl
        access = crypto.access_token(
            kid=key[0],
            private_pem=key[1],
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
        await store.insert_refresh_token(conn, record, refresh_hash, now)
        return TokenPair(access, access_expires, refresh, record.expires_at)

    async def refresh(self, request_id: str, refresh_token: str) -> TokenPair:
        if not refresh_token:
            raise InvalidArgument([FieldViolation("refresh_token", "required")])
        token_hash = crypto.refresh_token_hash(refresh_token)

        async def work(conn: AsyncConnection) -> RefreshResult:
            now = self.now()
            token = await store.refresh_token_by_hash(conn, token_hash)
            if token is None:
                return RefreshResult(None, "REFRESH_TOKEN_INVALID")
            state = token.state(now)
            if state is RefreshState.SPENT:
                # A rotated token came back: whoever holds the family may be a
                # thief, so every token of the family stops working.
                await store.revoke_family(conn, token.family_id, now)
                return RefreshResult(None, "REFRESH_TOKEN_REUSED")
            if state is not RefreshState.VALID:
                return RefreshResult(None, f"REFRESH_TOKEN_{state.name}")
            user = await store.user_by_id(conn, token.tenant_id, token.user_id)
            if user is None or user.disabled:
                await store.revoke_family(conn, token.family_id, now)
                return RefreshResult(None, "USER_DISABLED")
            await store.spend_refresh_token(conn, token.id, now)
            return RefreshResult(await self._issue(conn, user, family_id=token.family_id))

        key = idempotency.Key(f"refresh:{token_hash[:48]}", request_id, "RefreshToken")
        result = await idempotency.once(
            self.db,
            store.idempotency_records,
            key,
            {},
            RefreshResult,
            work,
            retention=TOKEN_REPLAY_RETENTION,
        )
        if result.tokens is None:
            raise errors.Unauthenticated("refresh token not accepted; log in again", reason=result.refused)
        return result.tokens

    async def logout(self, request_id: str, refresh_token: str) -> None:
        if not refresh_token:
            raise InvalidArgument([FieldViolation("refresh_token", "required")])
        token_hash = crypto.refresh_token_hash(refresh_token)

        async def work(conn: AsyncConnection) -> Done:
            now = self.now()
            token = await store.refresh_token_by_hash(conn, token_hash)
            if token is not None:
                await store.revoke_family(conn, token.family_id, now)
            # An unknown token logs out nothing, and says so no differently:
            # logout must not become an oracle for valid tokens.
            return Done(now)

        key = idempotency.Key(f"logout:{token_hash[:48]}", request_id, "Logout")
        await idempotency.once(self.db, store.idempotency_records, key, {}, Done, work)

    # --- users ---------------------------------------------------------------

    async def current_user(self, who: Principal) -> User:
        return await self.get_user(who, who.user_id)

    async def get_user(self, who: Principal, user_id: str) -> User:
        if user_id != who.user_id and not who.holds_any(frozenset({Role.MANAGER})):
            raise errors.PermissionDenied("only admins and managers see other users", reason="ROLE_REQUIRED")
        async with self.db.snapshot() as conn:
            user = await store.user_by_id(conn, who.tenant_id, user_id)
        if user is None:
            raise NotFound("user", user_name(user_id))
        return user

    async def list_users(self, who: Principal, query: commands.ListUsers) -> Page:
        size = paging.page_size(query.page_size)
        cursor = paging.decode(query.page_token)
        after = cursor.get("after_email", "")
        if not isinstance(after, str):
            raise InvalidArgument([FieldViolation("page_token", "not a token from a previous page")])
        async with self.db.snapshot() as conn:
            found = await store.list_users(
                conn,
                who.tenant_id,
                after_email=after,
                limit=size + 1,
                role=query.role,
                show_disabled=query.show_disabled,
            )
        more = len(found) > size
        found = found[:size]
        token = paging.encode({"after_email": found[-1].email}) if more else ""
        return Page(found, token)

    async def create_user(self, who: Principal, request_id: str, cmd: commands.CreateUser) -> User:
        email = domain.normalize_email(cmd.email)
        violations = Violations()
        domain.check_email(email, "user.email", violations)
        domain.check_display_name(cmd.display_name, "user.display_name", violations)
        domain.check_roles(cmd.roles, "user.roles", violations)
        domain.check_password(cmd.password, "user.password", violations, email=email)
        violations.raise_if_any()
        idempotency.validate_request_id(request_id)
        password_hash = await crypto.hash_password(cmd.password)

        async def work(conn: AsyncConnection) -> User:
            if await store.email_taken(conn, who.tenant_id, email):
                raise errors.AlreadyExists("user", email, field="user.email")
            now = self.now()
            user = User(
                id=str(uuid.uuid4()),
                tenant_id=who.tenant_id,
                email=email,
                display_name=cmd.display_name or email,
                roles=tuple(sorted(set(cmd.roles))),
                disabled=False,
                created_at=now,
                updated_at=now,
                last_login_at=None,
                version=1,
            )
            await store.insert_user(conn, user, password_hash)
            return user

        key = idempotency.Key(who.tenant_id, request_id, "CreateUser")
        payload = dataclasses.replace(cmd, password="")  # never keep a password digest
        return await idempotency.once(self.db, store.idempotency_records, key, payload, User, work)

    async def update_user(self, who: Principal, request_id: str, cmd: commands.UpdateUser) -> User:
        violations = Violations()
        if cmd.display_name is not None:
            domain.check_display_name(cmd.display_name, "user.display_name", violations)
        if cmd.roles is not None:
            domain.check_roles(cmd.roles, "user.roles", violations)
        violations.raise_if_any()

        async def work(conn: AsyncConnection) -> User:
            # Lock the tenant's users: the last-admin rule reads all of them.
            everyone = await store.tenant_users(conn, who.tenant_id, lock=True)
            user = next((u for u in everyone if u.id == cmd.user_id), None)
            if user is None:
                raise NotFound("user", user_name(cmd.user_id))
            etag.check(user_name(user.id), user.version, cmd.etag)
            changed = dataclasses.replace(
                user,
                display_name=cmd.display_name if cmd.display_name is not None else user.display_name,
                roles=tuple(sorted(set(cmd.roles))) if cmd.roles is not None else user.roles,
                disabled=cmd.disabled if cmd.disabled is not None else user.disabled,
                updated_at=self.now(),
                version=user.version + 1,
            )
            domain.keeps_an_admin(everyone, changed)
            if not await store.save_user(conn, changed, expected_version=user.version):
                raise errors.EtagMismatch(user_name(user.id))
            if changed.disabled and not user.disabled:
                await store.revoke_user_tokens(conn, user.id, self.now())
            return changed

        key = idempotency.Key(who.tenant_id, request_id, "UpdateUser")
        return await idempotency.once(self.db, store.idempotency_records, key, cmd, User, work)

    async def change_password(self, who: Principal, request_id: str, cmd: commands.ChangePassword) -> None:
        violations = Violations()
        if not cmd.current_password:
            violations.add("current_password", "required")
        async with self.db.snapshot() as conn:
            user = await store.user_by_id(conn, who.tenant_id, who.user_id)
            current_hash = await store.password_hash(conn, who.tenant_id, who.user_id)
        if user is None:
            raise NotFound("user", user_name(who.user_id))
        domain.check_password(cmd.new_password, "new_password", violations, email=user.email)
        violations.raise_if_any()
        idempotency.validate_request_id(request_id)
        if not await crypto.verify_password(current_hash, cmd.current_password):
            raise InvalidArgument(
                [FieldViolation("current_password", "does not match")], reason="WRONG_PASSWORD"
            )
        await self._set_password(who.tenant_id, user.id, request_id, "ChangePassword", cmd.new_password)

    async def reset_password(self, who: Principal, request_id: str, cmd: commands.ResetPassword) -> None:
        async with self.db.snapshot() as conn:
            user = await store.user_by_id(conn, who.tenant_id, cmd.user_id)
        if user is None:
            raise NotFound("user", user_name(cmd.user_id))
        violations = Violations()
        domain.check_password(cmd.new_password, "new_password", violations, email=user.email)
        violations.raise_if_any()
        idempotency.validate_request_id(request_id)
        await self._set_password(who.tenant_id, user.id, request_id, "ResetPassword", cmd.new_password)

    async def _set_password(
        self, tenant_id: str, user_id: str, request_id: str, operation: str, password: str
    ) -> None:
        new_hash = await crypto.hash_password(password)

        async def work(conn: AsyncConnection) -> Done:
            now = self.now()
            await store.set_password(conn, tenant_id, user_id, new_hash, now)
            await store.revoke_user_tokens(conn, user_id, now)
            return Done(now)

        key = idempotency.Key(tenant_id, request_id, operation)
        await idempotency.once(self.db, store.idempotency_records, key, {"user_id": user_id}, Done, work)
