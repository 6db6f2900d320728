"""svc_user's tables and queries (SQLAlchemy Core; SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from kit import db, idempotency
from kit.db import UtcDateTime
from kit.identity import Role
from svc_user.domain import Credentials, RefreshToken, Tenant, User

metadata = db.metadata()

tenants = Table(
    "tenants",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("slug", String(40), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id"), nullable=False),
    Column("email", String(254), nullable=False),
    Column("display_name", String(200), nullable=False),
    Column("roles", String(100), nullable=False),  # comma-separated Role values
    Column("disabled", Boolean, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("failed_logins", Integer, nullable=False),
    Column("locked_until", UtcDateTime, nullable=True),
    Column("last_login_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    UniqueConstraint("tenant_id", "email"),
    CheckConstraint("roles <> ''", name="has_a_role"),
    CheckConstraint("failed_logins >= 0", name="failed_logins_not_negative"),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("family_id", String(36), nullable=False),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False),
    Column("tenant_id", String(36), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime, nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
    Index(None, "family_id"),
    Index(None, "user_id"),
)

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", String(64), primary_key=True),
    Column("private_pem", Text, nullable=False),
    Column("public_jwk", Text, nullable=False),  # JSON
    Column("created_at", UtcDateTime, nullable=False),
    Column("retired_at", UtcDateTime, nullable=True),
)

idempotency_records = idempotency.table(metadata)


def _tenant(row: Any) -> Tenant:
    return Tenant(
        id=row.id,
        slug=row.slug,
        display_name=row.display_name,
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
    )


def _user(row: Any) -> User:
    return User(
        id=row.id,
        tenant_id=row.tenant_id,
        email=row.email,
        display_name=row.display_name,
        roles=tuple(Role(r) for r in row.roles.split(",")),
        disabled=row.disabled,
        created_at=row.created_at,
        updated_at=row.updated_at,
        last_login_at=row.last_login_at,
        version=row.version,
    )


def _roles(roles: tuple[Role, ...]) -> str:
    return ",".join(sorted({r.value for r in roles}))


# --- tenants -----------------------------------------------------------------


async def insert_tenant(conn: AsyncConnection, tenant: Tenant) -> None:
    await conn.execute(
        insert(tenants).values(
            id=tenant.id,
            slug=tenant.slug,
            display_name=tenant.display_name,
            created_at=tenant.created_at,
            updated_at=tenant.updated_at,
            version=tenant.version,
        )
    )


async def tenant_by_id(conn: AsyncConnection, tenant_id: str) -> Tenant | None:
    row = (await conn.execute(select(tenants).where(tenants.c.id == tenant_id))).first()
    return _tenant(row) if row else None


async def tenant_by_slug(conn: AsyncConnection, slug: str) -> Tenant | None:
    row = (await conn.execute(select(tenants).where(tenants.c.slug == slug))).first()
    return _tenant(row) if row else None


async def save_tenant(conn: AsyncConnection, tenant: Tenant, *, expected_version: int) -> bool:
    """Write `tenant` if nobody changed it since `expected_version` was read."""
    result = await conn.execute(
        update(tenants)
        .where(tenants.c.id == tenant.id, tenants.c.version == expected_version)
        .values(display_name=tenant.display_name, updated_at=tenant.updated_at, version=tenant.version)
    )
    return result.rowcount == 1


# --- users -------------------------------------------------------------------


async def insert_user(conn: AsyncConnection, user: User, password_hash: str) -> None:
    await conn.execute(
        insert(users).values(
            id=user.id,
            tenant_id=user.tenant_id,
            email=user.email,
            display_name=user.display_name,
            roles=_roles(user.roles),
            disabled=user.disabled,
            password_hash=password_hash,
            failed_logins=0,
            locked_until=None,
            last_login_at=None,
            created_at=user.created_at,
            updated_at=user.updated_at,
            version=user.version,
        )
    )


async def user_by_id(
    conn: AsyncConnection, tenant_id: str, user_id: str, *, lock: bool = False
) -> User | None:
    query = select(users).where(users.c.tenant_id == tenant_id, users.c.id == user_id)
    if lock:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return _user(row) if row else None


async def email_taken(conn: AsyncConnection, tenant_id: str, email: str) -> bool:
    query = select(users.c.id).where(users.c.tenant_id == tenant_id, users.c.email == email)
    return (await conn.execute(query)).first() is not None


async def credentials(conn: AsyncConnection, tenant_id: str, email: str) -> Credentials | None:
    row = (
        await conn.execute(select(users).where(users.c.tenant_id == tenant_id, users.c.email == email))
    ).first()
    if row is None:
        return None
    return Credentials(_user(row), row.password_hash, row.failed_logins, row.locked_until)


async def password_hash(conn: AsyncConnection, tenant_id: str, user_id: str) -> str | None:
    query = select(users.c.password_hash).where(users.c.tenant_id == tenant_id, users.c.id == user_id)
    return (await conn.execute(query)).scalar()


async def list_users(
    conn: AsyncConnection,
    tenant_id: str,
    *,
    after_email: str,
    limit: int,
    role: Role | None,
    show_disabled: bool,
) -> list[User]:
    query = select(users).where(users.c.tenant_id == tenant_id, users.c.email > after_email)
    if not show_disabled:
        query = query.where(users.c.disabled.is_(False))
    if role is not None:
        # roles is a sorted comma list; match the whole word.
        padded = "," + users.c.roles + ","
        query = query.where(padded.contains(f",{role.value},"))
    rows = (await conn.execute(query.order_by(users.c.email).limit(limit))).all()
    return [_user(r) for r in rows]


async def tenant_users(conn: AsyncConnection, tenant_id: str, *, lock: bool = False) -> list[User]:
    query = select(users).where(users.c.tenant_id == tenant_id).order_by(users.c.id)
    if lock:
        query = query.with_for_update()
    return [_user(r) for r in (await conn.execute(query)).all()]


async def save_user(conn: AsyncConnection, user: User, *, expected_version: int) -> bool:
    result = await conn.execute(
        update(users)
        .where(
            users.c.id == user.id, users.c.tenant_id == user.tenant_id, users.c.version == expected_version
        )
        .values(
            display_name=user.display_name,
            roles=_roles(user.roles),
            disabled=user.disabled,
            updated_at=user.updated_at,
            version=user.version,
        )
    )
    return result.rowcount == 1


async def set_password(
    conn: AsyncConnection, tenant_id: str, user_id: str, password_hash: str, now: datetime
) -> None:
    await conn.execute(
        update(users)
        .where(users.c.tenant_id == tenant_id, users.c.id == user_id)
        .values(
            password_hash=password_hash,
            updated_at=now,
            version=users.c.version + 1,
            failed_logins=0,
            locked_until=None,
        )
    )


async def record_failed_login(conn: AsyncConnection, user_id: str) -> int:
    """Count one more failure, atomically; returns the new count."""
    result = await conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(failed_logins=users.c.failed_logins + 1)
        .returning(users.c.failed_logins)
    )
    return int(result.scalar_one())


async def lock_user(conn: AsyncConnection, user_id: str, until: datetime) -> None:
    await conn.execute(update(users).where(users.c.id == user_id).values(locked_until=until))


async def record_login(conn: AsyncConnection, user_id: str, now: datetime) -> None:
    await conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(failed_logins=0, locked_until=None, last_login_at=now)
    )


# --- refresh tokens ----------------------------------------------------------


async def insert_refresh_token(
    conn: AsyncConnection, token: RefreshToken, token_hash: str, now: datetime
) -> None:
    await conn.execute(
        insert(refresh_tokens).values(
            id=token.id,
            token_hash=token_hash,
            family_id=token.family_id,
            user_id=token.user_id,
            tenant_id=token.tenant_id,
            created_at=now,
            expires_at=token.expires_at,
            used_at=None,
            revoked_at=None,
        )
    )


async def refresh_token_by_hash(conn: AsyncConnection, token_hash: str) -> RefreshToken | None:
    query = select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash).with_for_update()
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    return RefreshToken(
        id=row.id,
        family_id=row.family_id,
        user_id=row.user_id,
        tenant_id=row.tenant_id,
        expires_at=row.expires_at,
        used_at=row.used_at,
        revoked_at=row.revoked_at,
    )


async def spend_refresh_token(conn: AsyncConnection, token_id: str, now: datetime) -> bool:
    result = await conn.execute(
        update(refresh_tokens)
        .where(refresh_tokens.c.id == token_id, refresh_tokens.c.used_at.is_(None))
        .values(used_at=now)
    )
    return result.rowcount == 1


async def revoke_family(conn: AsyncConnection, family_id: str, now: datetime) -> None:
    await conn.execute(
        update(refresh_tokens)
        .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def revoke_user_tokens(conn: AsyncConnection, user_id: str, now: datetime) -> None:
    await conn.execute(
        update(refresh_tokens)
        .where(refresh_tokens.c.user_id == user_id, refresh_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


# --- signing keys ------------------------------------------------------------


async def active_signing_key(conn: AsyncConnection) -> tuple[str, str] | None:
    """(kid, private PEM) of the newest unretired key."""
    row = (
        await conn.execute(
            select(signing_keys.c.kid, signing_keys.c.private_pem)
            .where(signing_keys.c.retired_at.is_(None))
            .order_by(signing_keys.c.created_at.desc(), signing_keys.c.kid)
            .limit(1)
        )
    ).first()
    return (row.kid, row.private_pem) if row else None


async def public_jwks(conn: AsyncConnection) -> list[str]:
    query = (
        select(signing_keys.c.public_jwk)
        .where(signing_keys.c.retired_at.is_(None))
        .order_by(signing_keys.c.created_at)
    )
    return list((await conn.execute(query)).scalars())


async def insert_signing_key(
    conn: AsyncConnection, kid: str, private_pem: str, public_jwk: str, now: datetime
) -> None:
    await conn.execute(
        insert(signing_keys).values(
            kid=kid, private_pem=private_pem, public_jwk=public_jwk, created_at=now, retired_at=None
        )
    )
