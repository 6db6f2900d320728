"""svc_user's repositories in memory, for fast specifications of its use
cases: the same ports as the SQL store, with its ordering, filters, version
checks and uniqueness refusals."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from kit.identity import Role
from kit.memory import Memory, MemoryUnitOfWork, State
from kit.uow import Units
from svc_user import ports
from svc_user.domain import Credentials, RefreshToken, SigningKey, Tenant, User
from svc_user.ports import UserUnit


class UniqueViolation(Exception):
    """What the database refuses with a unique constraint."""


@dataclass
class UserRow:
    user: User
    password_hash: str
    failed_logins: int = 0
    locked_until: datetime | None = None


@dataclass
class TokenRow:
    token: RefreshToken
    token_hash: str
    created_at: datetime


@dataclass
class KeyRow:
    key: SigningKey
    retired_at: datetime | None = None


@dataclass
class UserState(State):
    tenants: dict[str, Tenant] = field(default_factory=dict)
    users: dict[str, UserRow] = field(default_factory=dict)
    refresh_tokens: dict[str, TokenRow] = field(default_factory=dict)
    signing_keys: dict[str, KeyRow] = field(default_factory=dict)


class MemoryTenants(ports.Tenants):
    def __init__(self, state: UserState) -> None:
        self.rows = state.tenants

    async def add(self, tenant: Tenant) -> None:
        if tenant.id in self.rows or any(t.slug == tenant.slug for t in self.rows.values()):
            raise UniqueViolation(f"tenant {tenant.slug}")
        self.rows[tenant.id] = tenant

    async def get(self, tenant_id: str) -> Tenant | None:
        return self.rows.get(tenant_id)

    async def by_slug(self, slug: str) -> Tenant | None:
        return next((t for t in self.rows.values() if t.slug == slug), None)

    async def save(self, tenant: Tenant, expected_version: int) -> bool:
        found = self.rows.get(tenant.id)
        if found is None or found.version != expected_version:
            return False
        self.rows[tenant.id] = dataclasses.replace(
            found, display_name=tenant.display_name, updated_at=tenant.updated_at, version=tenant.version
        )
        return True


class MemoryUsers(ports.Users):
    def __init__(self, state: UserState) -> None:
        self.rows = state.users

    def _of(self, tenant_id: str) -> list[UserRow]:
        return [row for row in self.rows.values() if row.user.tenant_id == tenant_id]

    async def add(self, user: User, password_hash: str) -> None:
        if user.id in self.rows or any(r.user.email == user.email for r in self._of(user.tenant_id)):
            raise UniqueViolation(f"user {user.email}")
        if not user.roles:
            raise ValueError("ck_users_has_a_role")
        self.rows[user.id] = UserRow(dataclasses.replace(user, last_login_at=None), password_hash)

    def _row(self, tenant_id: str, user_id: str) -> UserRow | None:
        row = self.rows.get(user_id)
        return row if row is not None and row.user.tenant_id == tenant_id else None

    async def get(self, tenant_id: str, user_id: str) -> User | None:
        row = self._row(tenant_id, user_id)
        return row.user if row else None

    async def email_taken(self, tenant_id: str, email: str) -> bool:
        return any(row.user.email == email for row in self._of(tenant_id))

    async def credentials(self, tenant_id: str, email: str) -> Credentials | None:
        row = next((r for r in self._of(tenant_id) if r.user.email == email), None)
        if row is None:
            return None
        return Credentials(row.user, row.password_hash, row.failed_logins, row.locked_until)

    async def password_hash(self, tenant_id: str, user_id: str) -> str | None:
        row = self._row(tenant_id, user_id)
        return row.password_hash if row else None

    async def page_by_email(
        self, tenant_id: str, *, after_email: str, limit: int, role: Role | None, show_disabled: bool
    ) -> list[User]:
        found = sorted(
            (
                row.user
                for row in self._of(tenant_id)
                if row.user.email > after_email
                and (show_disabled or not row.user.disabled)
                and (role is None or role in row.user.roles)
            ),
            key=lambda user: user.email,
        )
        return found[:limit]

    async def of_tenant(self, tenant_id: str, *, lock: bool = False) -> list[User]:
        return sorted((row.user for row in self._of(tenant_id)), key=lambda user: user.id)

    async def save(self, user: User, expected_version: int) -> bool:
        row = self._row(user.tenant_id, user.id)
        if row is None or row.user.version != expected_version:
            return False
        if not user.roles:
            raise ValueError("ck_users_has_a_role")
        row.user = dataclasses.replace(
            row.user,
            display_name=user.display_name,
            roles=tuple(sorted(set(user.roles))),
            disabled=user.disabled,
            updated_at=user.updated_at,
            version=user.version,
        )
        return True

    async def set_password(self, tenant_id: str, user_id: str, password_hash: str, now: datetime) -> None:
        row = self._row(tenant_id, user_id)
        if row is not None:
            row.user = dataclasses.replace(row.user, updated_at=now, version=row.user.version + 1)
            row.password_hash = password_hash
            row.failed_logins = 0
            row.locked_until = None

    async def count_failed_login(self, user_id: str) -> int:
        row = self.rows[user_id]
        row.failed_logins += 1
        return row.failed_logins

    async def lock(self, user_id: str, until: datetime) -> None:
        if user_id in self.rows:
            self.rows[user_id].locked_until = until

    async def record_login(self, user_id: str, now: datetime) -> None:
        row = self.rows.get(user_id)
        if row is not None:
            row.failed_logins = 0
            row.locked_until = None
            row.user = dataclasses.replace(row.user, last_login_at=now)


class MemoryRefreshTokens(ports.RefreshTokens):
    def __init__(self, state: UserState) -> None:
        self.rows = state.refresh_tokens

    async def add(self, token: RefreshToken, token_hash: str, now: datetime) -> None:
        if token.id in self.rows or any(r.token_hash == token_hash for r in self.rows.values()):
            raise UniqueViolation("refresh token")
        fresh = dataclasses.replace(token, used_at=None, revoked_at=None)
        self.rows[token.id] = TokenRow(fresh, token_hash, now)

    async def by_hash(self, token_hash: str) -> RefreshToken | None:
        return next((r.token for r in self.rows.values() if r.token_hash == token_hash), None)

    async def spend(self, token_id: str, now: datetime) -> bool:
        row = self.rows.get(token_id)
        if row is None or row.token.used_at is not None:
            return False
        row.token = dataclasses.replace(row.token, used_at=now)
        return True

    def _revoke(self, chosen: Callable[[RefreshToken], bool], now: datetime) -> None:
        for row in self.rows.values():
            if chosen(row.token) and row.token.revoked_at is None:
                row.token = dataclasses.replace(row.token, revoked_at=now)

    async def revoke_family(self, family_id: str, now: datetime) -> None:
        self._revoke(lambda token: token.family_id == family_id, now)

    async def revoke_of_user(self, user_id: str, now: datetime) -> None:
        self._revoke(lambda token: token.user_id == user_id, now)


class MemorySigningKeys(ports.SigningKeys):
    def __init__(self, state: UserState) -> None:
        self.rows = state.signing_keys

    async def add(self, key: SigningKey) -> None:
        if key.kid in self.rows:
            raise UniqueViolation(f"signing key {key.kid}")
        self.rows[key.kid] = KeyRow(key)

    def _unretired(self) -> list[SigningKey]:
        return [row.key for row in self.rows.values() if row.retired_at is None]

    async def active(self) -> SigningKey | None:
        newest_first = sorted(self._unretired(), key=lambda key: key.kid)
        newest_first.sort(key=lambda key: key.created_at, reverse=True)
        return newest_first[0] if newest_first else None

    async def known(self, kid: str) -> bool:
        return kid in self.rows

    async def retire_others(self, kid: str, at: datetime) -> None:
        for other, row in self.rows.items():
            if other != kid and row.retired_at is None:
                row.retired_at = at

    async def public_jwks(self, retired_after: datetime) -> list[str]:
        kept = [
            row.key for row in self.rows.values() if row.retired_at is None or row.retired_at > retired_after
        ]
        return [key.public_jwk for key in sorted(kept, key=lambda key: (key.created_at, key.kid))]


class MemoryUserUnit(MemoryUnitOfWork[UserState], UserUnit):
    def bind(self, state: UserState) -> None:
        self.tenants = MemoryTenants(state)
        self.users = MemoryUsers(state)
        self.refresh_tokens = MemoryRefreshTokens(state)
        self.signing_keys = MemorySigningKeys(state)


def units(clock: Callable[[], datetime], memory: Memory[UserState] | None = None) -> Units[UserUnit]:
    """Units of work on `memory` (a fresh, empty one by default)."""
    held = memory if memory is not None else Memory(UserState())

    def open_unit(*, read_only: bool) -> UserUnit:
        return MemoryUserUnit(held, read_only=read_only)

    return Units(open_unit, clock)
