"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 07:10:39.159167
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

    op.create_table('suppliers',
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('contact_name', sa.String(length=200), nullable=False),
    sa.Column('contact_email', sa.String(length=320), nullable=False),
    sa.Column('contact_phone', sa.String(length=32), nullable=False),
    sa.Column('currency_code', sa.String(length=3), nullable=False),
    sa.Column('default_lead_time_days', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', kit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('archived_at', kit.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('default_lead_time_days BETWEEN 0 AND 365', name=op.f('ck_suppliers_lead_time_in_range')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_suppliers'))
    )
    op.create_table('purchase_orders',
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('supplier_id', sa.String(length=36), nullable=False),
    sa.Column('warehouse_id', sa.String(length=36), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('lines', sa.Text(), nullable=False),
    sa.Column('currency_code', sa.String(length=3), nullable=False),
    sa.Column('expected_delivery_at', kit.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('supplier_reference', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('creator', sa.String(length=36), nullable=False),
    sa.Column('created_at', kit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', kit.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', kit.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'supplier_id'], ['suppliers.tenant_id', 'suppliers.id'], name=op.f('fk_purchase_orders_tenant_id_suppliers')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_purchase_orders'))
    )
    with op.batch_alter_table('purchase_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchase_orders_tenant_id_warehouse_id_state'), ['tenant_id', 'warehouse_id', 'state'], unique=False)

    op.create_table('supplier_items',
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('supplier_id', sa.String(length=36), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('supplier_sku', sa.String(length=64), nullable=False),
    sa.Column('unit_cost_nanos', sa.BigInteger(), nullable=False),
    sa.Column('lead_time_days', sa.Integer(), nullable=True),
    sa.Column('minimum_order_quantity', sa.BigInteger(), nullable=False),
    sa.Column('pack_size', sa.BigInteger(), nullable=False),
    sa.Column('preferred', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', kit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('minimum_order_quantity >= 1 AND pack_size >= 1', name=op.f('ck_supplier_items_order_terms_positive')),
    sa.CheckConstraint('unit_cost_nanos >= 0', name=op.f('ck_supplier_items_unit_cost_not_negative')),
    sa.ForeignKeyConstraint(['tenant_id', 'supplier_id'], ['suppliers.tenant_id', 'suppliers.id'], name=op.f('fk_supplier_items_tenant_id_suppliers')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_supplier_items')),
    sa.UniqueConstraint('tenant_id', 'supplier_id', 'sku', name=op.f('uq_supplier_items_tenant_id_supplier_id_sku')),
    sa.UniqueConstraint('tenant_id', 'supplier_id', 'supplier_sku', name=op.f('uq_supplier_items_tenant_id_supplier_id_supplier_sku'))
    )
    with op.batch_alter_table('supplier_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supplier_items_tenant_id_sku'), ['tenant_id', 'sku'], unique=False)

    op.create_table('receipts',
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('purchase_order_id', sa.String(length=36), nullable=False),
    sa.Column('warehouse_id', sa.String(length=36), nullable=False),
    sa.Column('lines', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('delivery_note', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('receiver', sa.String(length=36), nullable=False),
    sa.Column('stock_movements', sa.Text(), nullable=False),
    sa.Column('received_at', kit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('booked_at', kit.db.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id', 'purchase_order_id'], ['purchase_orders.tenant_id', 'purchase_orders.id'], name=op.f('fk_receipts_tenant_id_purchase_orders')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_receipts'))
    )
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_receipts_state_received_at'), ['state', 'received_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_receipts_state_received_at'))

    op.drop_table('receipts')
    with op.batch_alter_table('supplier_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supplier_items_tenant_id_sku'))

    op.drop_table('supplier_items')
    with op.batch_alter_table('purchase_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchase_orders_tenant_id_warehouse_id_state'))

    op.drop_table('purchase_orders')
    op.drop_table('suppliers')
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_records_expires_at'))

    op.drop_table('idempotency_records')
