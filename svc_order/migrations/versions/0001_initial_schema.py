"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 07:08:07.140658
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

    op.create_table('order_numbers',
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('last_number', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_order_numbers'))
    )
    op.create_table('orders',
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('number', sa.BigInteger(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=True),
    sa.Column('customer', sa.String(length=200), nullable=False),
    sa.Column('warehouse_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('currency_code', sa.String(length=3), nullable=False),
    sa.Column('reservation_id', sa.String(length=36), nullable=False),
    sa.Column('hold_expire_at', kit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('carrier', sa.String(length=100), nullable=True),
    sa.Column('tracking_number', sa.String(length=100), nullable=True),
    sa.Column('shipped_at', kit.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('order_time', kit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('creator_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', kit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', kit.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('imported', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_orders')),
    sa.UniqueConstraint('tenant_id', 'channel', 'external_id', name=op.f('uq_orders_tenant_id_channel_external_id')),
    sa.UniqueConstraint('tenant_id', 'number', name=op.f('uq_orders_tenant_id_number'))
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_status_hold', ['status', 'hold_expire_at'], unique=False)
        batch_op.create_index('ix_orders_tenant_order_time', ['tenant_id', 'order_time', 'id'], unique=False)

    op.create_table('order_lines',
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('order_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('list_price_currency', sa.String(length=3), nullable=False),
    sa.Column('list_price_units', sa.BigInteger(), nullable=False),
    sa.Column('list_price_nanos', sa.Integer(), nullable=False),
    sa.Column('unit_price_units', sa.BigInteger(), nullable=False),
    sa.Column('unit_price_nanos', sa.Integer(), nullable=False),
    sa.Column('shipped_quantity', sa.BigInteger(), nullable=False),
    sa.Column('returned_quantity', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('quantity >= 1', name=op.f('ck_order_lines_quantity_positive')),
    sa.CheckConstraint('returned_quantity <= shipped_quantity', name=op.f('ck_order_lines_returned_within_shipped')),
    sa.ForeignKeyConstraint(['tenant_id', 'order_id'], ['orders.tenant_id', 'orders.id'], name=op.f('fk_order_lines_tenant_id_orders')),
    sa.PrimaryKeyConstraint('tenant_id', 'order_id', 'position', name=op.f('pk_order_lines')),
    sa.UniqueConstraint('tenant_id', 'order_id', 'sku', name=op.f('uq_order_lines_tenant_id_order_id_sku'))
    )
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.create_index('ix_order_lines_tenant_sku', ['tenant_id', 'sku'], unique=False)

    op.create_table('order_returns',
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('order_id', sa.String(length=36), nullable=False),
    sa.Column('lines', sa.Text(), nullable=False),
    sa.Column('reason', sa.String(length=24), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('warehouse_id', sa.String(length=36), nullable=False),
    sa.Column('total_units', sa.BigInteger(), nullable=False),
    sa.Column('total_nanos', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('stock_movements', sa.Text(), nullable=False),
    sa.Column('creator_id', sa.String(length=36), nullable=False),
    sa.Column('returned_at', kit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('booked_at', kit.db.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id', 'order_id'], ['orders.tenant_id', 'orders.id'], name=op.f('fk_order_returns_tenant_id_orders')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_order_returns'))
    )
    with op.batch_alter_table('order_returns', schema=None) as batch_op:
        batch_op.create_index('ix_order_returns_order', ['tenant_id', 'order_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('order_returns', schema=None) as batch_op:
        batch_op.drop_index('ix_order_returns_order')

    op.drop_table('order_returns')
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_order_lines_tenant_sku')

    op.drop_table('order_lines')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_tenant_order_time')
        batch_op.drop_index('ix_orders_status_hold')

    op.drop_table('orders')
    op.drop_table('order_numbers')
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_records_expires_at'))

    op.drop_table('idempotency_records')
