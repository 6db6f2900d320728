"""What svc_user's use cases need of storage, as abstract repositories, and
the unit of work that holds them. The SQL store and the in-memory fakes
implement the same classes."""

from __future__ import annotations

import abc
from datetime import datetime

from kit.identity import Role
from kit.uow import UnitOfWork
from svc_user.domain import Credentials, RefreshToken, SigningKey, Tenant, User


class Tenants(abc.ABC):
    @abc.abstractmethod
    async def add(self, tenant: Tenant) -> None: ...

    @abc.abstractmethod
    async def get(self, tenant_id: str) -> Tenant | None: ...

    @abc.abstractmethod
    async def by_slug(self, slug: str) -> Tenant | None: ...

    @abc.abstractmethod
    async def save(self, tenant: Tenant, expected_version: int) -> bool:
        """Write `tenant` if nobody changed it since `expected_version` was read."""


class Users(abc.ABC):
    @abc.abstractmethod
    async def add(self, user: User, password_hash: str) -> None:
        """A new user with no failed logins and no lock."""

    @abc.abstractmethod
    async def get(self, tenant_id: str, user_id: str) -> User | None: ...

    @abc.abstractmethod
    async def email_taken(self, tenant_id: str, email: str) -> bool: ...

    @abc.abstractmethod
    async def credentials(self, tenant_id: str, email: str) -> Credentials | None: ...

    @abc.abstractmethod
    async def password_hash(self, tenant_id: str, user_id: str) -> str | None: ...

    @abc.abstractmethod
    async def page_by_email(
        self, tenant_id: str, *, after_email: str, limit: int, role: Role | None, show_disabled: bool
    ) -> list[User]:
        """Up to `limit` users by email, after `after_email`; disabled ones
        only with `show_disabled`; holding `role` when given."""

    @abc.abstractmethod
    async def of_tenant(self, tenant_id: str, *, lock: bool = False) -> list[User]:
        """Every user of the tenant by id; `lock` holds them until the unit ends."""

    @abc.abstractmethod
    async def save(self, user: User, expected_version: int) -> bool:
        """Write name, roles and disabled of `user` if its version is still
        `expected_version`."""

    @abc.abstractmethod
    async def set_password(self, tenant_id: str, user_id: str, password_hash: str, now: datetime) -> None:
        """Replace the password, clear failures and lock, bump the version."""

    @abc.abstractmethod
    async def count_failed_login(self, user_id: str) -> int:
        """Count one more failed login, atomically; the new count."""

    @abc.abstractmethod
    async def lock(self, user_id: str, until: datetime) -> None: ...

    @abc.abstractmethod
    async def record_login(self, user_id: str, now: datetime) -> None:
        """A successful login: failures and lock cleared, the time kept."""


class RefreshTokens(abc.ABC):
    @abc.abstractmethod
    async def add(self, token: RefreshToken, token_hash: str, now: datetime) -> None: ...

    @abc.abstractmethod
    async def by_hash(self, token_hash: str) -> RefreshToken | None:
        """The token, locked until the unit ends (two refreshes of one
        token queue here, so only one of them spends it)."""

    @abc.abstractmethod
    async def spend(self, token_id: str, now: datetime) -> bool: ...

    @abc.abstractmethod
    async def revoke_family(self, family_id: str, now: datetime) -> None: ...

    @abc.abstractmethod
    async def revoke_of_user(self, user_id: str, now: datetime) -> None: ...


class SigningKeys(abc.ABC):
    @abc.abstractmethod
    async def add(self, key: SigningKey) -> None: ...

    @abc.abstractmethod
    async def active(self) -> SigningKey | None:
        """The newest unretired key: the one that signs."""

    @abc.abstractmethod
    async def known(self, kid: str) -> bool:
        """Whether a key of this kid was ever added (retired or not)."""

    @abc.abstractmethod
    async def retire_others(self, kid: str, at: datetime) -> None:
        """Retire at `at` every unretired key but `kid`: they sign no more."""

    @abc.abstractmethod
    async def public_jwks(self, retired_after: datetime) -> list[str]:
        """The public JWK (JSON) of every key unretired, or retired after `retired_after` (it may
        still have signed tokens that have not expired), oldest first."""


class UserUnit(UnitOfWork):
    tenants: Tenants
    users: Users
    refresh_tokens: RefreshTokens
    signing_keys: SigningKeys
