"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 05:59:51.596734
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

    op.create_table('ledger_sequences',
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('last_sequence', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_ledger_sequences'))
    )
    op.create_table('movements',
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('sequence', sa.BigInteger(), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('warehouse_id', sa.String(length=36), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('quantity_delta', sa.BigInteger(), nullable=False),
    sa.Column('reserved_delta', sa.BigInteger(), nullable=False),
    sa.Column('on_hand_after', sa.BigInteger(), nullable=False),
    sa.Column('reserved_after', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=24), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=False),
    sa.Column('reservation_id', sa.String(length=36), nullable=False),
    sa.Column('counterpart_warehouse_id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('caller', sa.String(length=200), nullable=False),
    sa.Column('request_id', sa.String(length=128), nullable=False),
    sa.Column('trace_id', sa.String(length=32), nullable=False),
    sa.Column('effective_at', kit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_at', kit.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_movements')),
    sa.UniqueConstraint('tenant_id', 'sequence', name=op.f('uq_movements_tenant_id_sequence'))
    )
    with op.batch_alter_table('movements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_movements_tenant_id_reference'), ['tenant_id', 'reference'], unique=False)
        batch_op.create_index(batch_op.f('ix_movements_tenant_id_reservation_id'), ['tenant_id', 'reservation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_movements_tenant_id_warehouse_id_sku_sequence'), ['tenant_id', 'warehouse_id', 'sku', 'sequence'], unique=False)
        batch_op.create_index(batch_op.f('ix_movements_tenant_id_warehouse_id_type_effective_at'), ['tenant_id', 'warehouse_id', 'type', 'effective_at'], unique=False)

    op.create_table('reservations',
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('expire_at', kit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_at', kit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', kit.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_reservations'))
    )
    with op.batch_alter_table('reservations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reservations_state_expire_at'), ['state', 'expire_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_reservations_tenant_id_created_at'), ['tenant_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_reservations_tenant_id_reference'), ['tenant_id', 'reference'], unique=False)

    op.create_table('warehouses',
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', kit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('archived_at', kit.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_warehouses')),
    sa.UniqueConstraint('tenant_id', 'code', name=op.f('uq_warehouses_tenant_id_code'))
    )
    op.create_table('reservation_lines',
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('reservation_id', sa.String(length=36), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.String(length=36), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_reservation_lines_quantity_positive')),
    sa.ForeignKeyConstraint(['tenant_id', 'reservation_id'], ['reservations.tenant_id', 'reservations.id'], name=op.f('fk_reservation_lines_tenant_id_reservations')),
    sa.PrimaryKeyConstraint('tenant_id', 'reservation_id', 'line_no', name=op.f('pk_reservation_lines')),
    sa.UniqueConstraint('tenant_id', 'reservation_id', 'warehouse_id', 'sku', name=op.f('uq_reservation_lines_tenant_id_reservation_id_warehouse_id_sku'))
    )
    with op.batch_alter_table('reservation_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reservation_lines_tenant_id_warehouse_id_sku'), ['tenant_id', 'warehouse_id', 'sku'], unique=False)

    op.create_table('stock_levels',
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('warehouse_id', sa.String(length=36), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('on_hand', sa.BigInteger(), nullable=False),
    sa.Column('reserved', sa.BigInteger(), nullable=False),
    sa.Column('reorder_point', sa.BigInteger(), nullable=False),
    sa.Column('reorder_quantity', sa.BigInteger(), nullable=False),
    sa.Column('last_count_at', kit.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', kit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('reorder_point >= 0 AND reorder_quantity >= 0', name=op.f('ck_stock_levels_reorder_policy_not_negative')),
    sa.CheckConstraint('reserved <= on_hand', name=op.f('ck_stock_levels_reserved_within_on_hand')),
    sa.CheckConstraint('reserved >= 0', name=op.f('ck_stock_levels_reserved_not_negative')),
    sa.ForeignKeyConstraint(['tenant_id', 'warehouse_id'], ['warehouses.tenant_id', 'warehouses.id'], name=op.f('fk_stock_levels_tenant_id_warehouses')),
    sa.PrimaryKeyConstraint('tenant_id', 'warehouse_id', 'sku', name=op.f('pk_stock_levels'))
    )


def downgrade() -> None:
    op.drop_table('stock_levels')
    with op.batch_alter_table('reservation_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reservation_lines_tenant_id_warehouse_id_sku'))

    op.drop_table('reservation_lines')
    op.drop_table('warehouses')
    with op.batch_alter_table('reservations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reservations_tenant_id_reference'))
        batch_op.drop_index(batch_op.f('ix_reservations_tenant_id_created_at'))
        batch_op.drop_index(batch_op.f('ix_reservations_state_expire_at'))

    op.drop_table('reservations')
    with op.batch_alter_table('movements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_movements_tenant_id_warehouse_id_type_effective_at'))
        batch_op.drop_index(batch_op.f('ix_movements_tenant_id_warehouse_id_sku_sequence'))
        batch_op.drop_index(batch_op.f('ix_movements_tenant_id_reservation_id'))
        batch_op.drop_index(batch_op.f('ix_movements_tenant_id_reference'))

    op.drop_table('movements')
    op.drop_table('ledger_sequences')
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_records_expires_at'))

    op.drop_table('idempotency_records')
