"""svc_user's tables (SQLAlchemy Core; SQLite and PostgreSQL): what its
migrations build and its repositories read and write."""

from __future__ import annotations

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
)

from kit import db, idempotency
from kit.db import UtcDateTime

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
