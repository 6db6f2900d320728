"""The rules of tenants, users, passwords, login back-off and refresh tokens.

Standard library only: no storage, no gRPC, no crypto. The use cases load
state, ask these functions what follows, and store the answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from kit.errors import FailedPrecondition, PreconditionViolation, Violations
from kit.identity import Role

EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
MIN_PASSWORD = 10
PASSPHRASE = 16  # this long, any mix of characters is strong enough
MAX_PASSWORD = 256
COMMON_PASSWORDS = frozenset(
    {
        "password123",
        "password1234",
        "qwerty12345",
        "1234567890",
        "12345678910",
        "iloveyou123",
        "administrator",
        "welcome123",
        "letmein1234",
        "changeme123",
        "passw0rd123",
        "qwertyuiop",
        "1q2w3e4r5t",
        "abc1234567",
        "stockmesh123",
    }
)

# Login back-off: FREE_ATTEMPTS failures in a row lock the account for
# LOCK_BASE; each further failure doubles the lock, up to LOCK_MAX.
FREE_ATTEMPTS = 5
LOCK_BASE = timedelta(seconds=30)
LOCK_MAX = timedelta(minutes=15)


@dataclass(frozen=True)
class Tenant:
    id: str
    slug: str
    display_name: str
    created_at: datetime
    updated_at: datetime
    version: int


@dataclass(frozen=True)
class User:
    id: str
    tenant_id: str
    email: str
    display_name: str
    roles: tuple[Role, ...]
    disabled: bool
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None
    version: int


@dataclass(frozen=True)
class Credentials:
    """What login needs of a user beyond the public record."""

    user: User
    password_hash: str
    failed_logins: int
    locked_until: datetime | None


class RefreshState(StrEnum):
    VALID = "valid"
    SPENT = "spent"  # rotated: presenting it again means it was stolen
    REVOKED = "revoked"
    EXPIRED = "expired"


@dataclass(frozen=True)
class RefreshToken:
    id: str
    family_id: str
    user_id: str
    tenant_id: str
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None

    def state(self, now: datetime) -> RefreshState:
        if self.revoked_at is not None:
            return RefreshState.REVOKED
        if self.used_at is not None:
            return RefreshState.SPENT
        if self.expires_at <= now:
            return RefreshState.EXPIRED
        return RefreshState.VALID


@dataclass(frozen=True)
class SigningKey:
    """A key that signs access tokens; its public half is published (JWKS)."""

    kid: str
    private_pem: str
    public_jwk: str  # JSON
    created_at: datetime


def normalize_email(email: str) -> str:
    return email.strip().lower()


def check_email(email: str, field: str, violations: Violations) -> None:
    if not email:
        violations.add(field, "required")
    elif len(email) > 254 or not EMAIL.fullmatch(email):
        violations.add(field, "not a valid email address")


def check_slug(slug: str, field: str, violations: Violations) -> None:
    if not SLUG.fullmatch(slug):
        violations.add(
            field, "1-40 lowercase letters, digits or hyphens, not starting or ending with a hyphen"
        )


def check_password(password: str, field: str, violations: Violations, *, email: str = "") -> None:
    """Minimum strength: long enough, not common, not the email, mixed unless long."""
    if not password:
        violations.add(field, "required")
        return
    if len(password) > MAX_PASSWORD:
        violations.add(field, f"at most {MAX_PASSWORD} characters")
        return
    if len(password) < MIN_PASSWORD:
        violations.add(field, f"at least {MIN_PASSWORD} characters")
        return
    lowered = password.lower()
    local = normalize_email(email).partition("@")[0]
    if lowered in COMMON_PASSWORDS or len(set(password)) < 4:
        violations.add(field, "too common or too repetitive")
    elif len(local) >= 3 and local in lowered:
        violations.add(field, "must not contain the email address")
    elif len(password) < PASSPHRASE and _classes(password) < 3:
        violations.add(
            field,
            f"use at least three of lowercase, uppercase, digits and symbols, or {PASSPHRASE}+ characters",
        )


def _classes(password: str) -> int:
    return sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )


def check_roles(roles: tuple[Role, ...], field: str, violations: Violations) -> None:
    if not roles:
        violations.add(field, "at least one role")


def check_display_name(name: str, field: str, violations: Violations) -> None:
    if len(name) > 200:
        violations.add(field, "at most 200 characters")


def lock_after_failure(failed_logins: int, now: datetime) -> datetime | None:
    """Until when the account is locked, given the failures counted so far."""
    if failed_logins < FREE_ATTEMPTS:
        return None
    lock = LOCK_BASE * int(2 ** min(failed_logins - FREE_ATTEMPTS, 10))
    return now + min(lock, LOCK_MAX)


def keeps_an_admin(users: list[User], changed: User) -> None:
    """A tenant must keep at least one enabled admin: refuse the change otherwise."""
    after = [changed if u.id == changed.id else u for u in users]
    admins = [u for u in after if Role.ADMIN in u.roles and not u.disabled]
    if not admins:
        raise FailedPrecondition(
            "the tenant would have no enabled admin left",
            [
                PreconditionViolation(
                    "ADMIN", f"users/{changed.id}", "the last enabled admin must stay an enabled admin"
                )
            ],
            reason="LAST_ADMIN",
        )
