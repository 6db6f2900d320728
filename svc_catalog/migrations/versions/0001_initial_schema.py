"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 06:00:59.312512
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kit.db

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('idempotency_records',
    sa.Column('scope', sa.String(length=64), nullable=False),
    sa.Column('request_id', sa.String(length=128), nullable=False),
    sa.Column('operation', sa.String(length=128), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('result', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', kit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', kit.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('scope', 'request_id', name='pk_idempotency_records')
    )
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_records_expires_at'), ['expires_at'], unique=False)

    op.create_table('products',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('sort_key', sa.String(length=600), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('brand', sa.String(length=100), nullable=False),
    sa.Column('brand_key', sa.String(length=300), nullable=False),
    sa.Column('category', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('created_at', kit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('archived_at', kit.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("(status = 'active' AND archived_at IS NULL) OR (status = 'archived' AND archived_at IS NOT NULL)", name=op.f('ck_products_archived_at_iff_archived')),
    sa.CheckConstraint("status IN ('active', 'archived')", name=op.f('ck_products_status_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_products'))
    )
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_products_tenant_id_sort_key_id'), ['tenant_id', 'sort_key', 'id'], unique=False)

    op.create_table('variants',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('product_id', sa.String(length=36), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('sku_key', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('attributes', sa.Text(), nullable=False),
    sa.Column('unit_of_measure', sa.String(length=3), nullable=False),
    sa.Column('price_currency', sa.String(length=3), nullable=False),
    sa.Column('price_units', sa.BigInteger(), nullable=False),
    sa.Column('price_nanos', sa.Integer(), nullable=False),
    sa.Column('barcode', sa.String(length=14), nullable=True),
    sa.Column('barcode_key', sa.String(length=14), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('created_at', kit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('archived_at', kit.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("(status = 'active' AND archived_at IS NULL) OR (status = 'archived' AND archived_at IS NOT NULL)", name=op.f('ck_variants_archived_at_iff_archived')),
    sa.CheckConstraint("status IN ('active', 'archived')", name=op.f('ck_variants_status_known')),
    sa.CheckConstraint('(barcode IS NULL) = (barcode_key IS NULL)', name=op.f('ck_variants_barcode_with_its_key')),
    sa.CheckConstraint('price_units >= 0 AND price_nanos >= 0 AND price_nanos < 1000000000', name=op.f('ck_variants_price_not_negative')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_variants_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_variants')),
    sa.UniqueConstraint('tenant_id', 'barcode_key', name=op.f('uq_variants_tenant_id_barcode_key')),
    sa.UniqueConstraint('tenant_id', 'sku_key', name=op.f('uq_variants_tenant_id_sku_key'))
    )
    with op.batch_alter_table('variants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_variants_product_id'), ['product_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('variants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_variants_product_id'))

    op.drop_table('variants')
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_products_tenant_id_sort_key_id'))

    op.drop_table('products')
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_records_expires_at'))

    op.drop_table('idempotency_records')
