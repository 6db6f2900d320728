"""svc_catalog's tables.

Prices are stored as google.type.Money holds them (currency, units, nanos),
so any currency and precision round-trips exactly. Case-insensitive
matching uses columns the domain normalizes (`sku_key`, `brand_key`,
`barcode_key`), so the same query works on both databases without
collations; word-prefix search reads `search_text` through a full-text
index that migration 0003 builds on each database (`search`).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
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
from svc_catalog import domain

metadata = db.metadata()

_ARCHIVED_WHEN = (
    "(status = 'active' AND archived_at IS NULL) OR (status = 'archived' AND archived_at IS NOT NULL)"
)

products = Table(
    "products",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), nullable=False),
    Column("display_name", String(domain.MAX_NAME), nullable=False),
    Column("sort_key", String(3 * domain.MAX_NAME), nullable=False),  # display_name case-folded
    Column("description", Text, nullable=False),
    Column("brand", String(domain.MAX_BRAND), nullable=False),
    Column("brand_key", String(3 * domain.MAX_BRAND), nullable=False),  # brand case-folded
    Column("category", String(domain.MAX_CATEGORY), nullable=False),
    Column("status", String(16), nullable=False),
    Column("search_text", Text, nullable=False),  # see domain.product_search_text
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("archived_at", UtcDateTime, nullable=True),
    Column("version", Integer, nullable=False),
    Index(None, "tenant_id", "sort_key", "id"),
    # Filtered lists in their order, positioned by the keyset cursor.
    Index(None, "tenant_id", "brand_key", "sort_key", "id"),
    Index(None, "tenant_id", "status", "sort_key", "id"),
    # A category and the categories below it (migration 0004).
    Index(
        "ix_products_category_tree",
        "tenant_id",
        "category",
        "sort_key",
        "id",
        postgresql_ops={"category": "text_pattern_ops"},
    ),
    CheckConstraint("status IN ('active', 'archived')", name="status_known"),
    CheckConstraint(_ARCHIVED_WHEN, name="archived_at_iff_archived"),
)

variants = Table(
    "variants",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), nullable=False),
    Column("product_id", String(36), ForeignKey("products.id"), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("sku_key", String(64), nullable=False),  # lower-cased: unique per tenant ignoring case
    Column("display_name", String(domain.MAX_NAME), nullable=False),
    Column("attributes", Text, nullable=False),  # JSON object of strings
    Column("unit_of_measure", String(3), nullable=False),
    Column("price_currency", String(3), nullable=False),
    Column("price_units", BigInteger, nullable=False),
    Column("price_nanos", Integer, nullable=False),
    Column("barcode", String(14), nullable=True),  # as given
    Column("barcode_key", String(14), nullable=True),  # GTIN-14: unique per tenant
    Column("status", String(16), nullable=False),
    Column("search_text", Text, nullable=False),  # see domain.variant_search_text
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("archived_at", UtcDateTime, nullable=True),
    Column("version", Integer, nullable=False),
    UniqueConstraint("tenant_id", "sku_key"),
    UniqueConstraint("tenant_id", "barcode_key"),
    Index(None, "product_id"),
    CheckConstraint("status IN ('active', 'archived')", name="status_known"),
    CheckConstraint(_ARCHIVED_WHEN, name="archived_at_iff_archived"),
    CheckConstraint(
        "price_units >= 0 AND price_nanos >= 0 AND price_nanos < 1000000000", name="price_not_negative"
    ),
    CheckConstraint("(barcode IS NULL) = (barcode_key IS NULL)", name="barcode_with_its_key"),
)

# Cache keys a write could not delete in Redis (kit.cache.MissedLog); rare,
# and kept for two cache TTLs.
missed_invalidations = Table(
    "missed_invalidations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("keys", Text, nullable=False),  # JSON array of strings
    Column("created_at", UtcDateTime, nullable=False, index=True),
)

idempotency_records = idempotency.table(metadata)
