"""device_health: each office device's latest heartbeat, forwarded by its office's agent
(central/fleet.py, docs/operations/health.md)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 15:30:00
"""
import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'device_health',
        sa.Column('key', sa.Text(), nullable=False),
        sa.Column('office', sa.Text(), nullable=False),
        sa.Column('device', sa.Text(), nullable=False),
        sa.Column('via', sa.Text(), nullable=False),
        sa.Column('role', sa.Text(), nullable=False),
        sa.Column('report', sa.Text(), nullable=False),
        sa.Column('seen_at', sa.Text(), nullable=False),
        sa.Column('received_at', sa.Text(), nullable=False),
        sa.Column('skew_s', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('key'))
    op.create_index(op.f('ix_device_health_office'), 'device_health', ['office'])


def downgrade() -> None:
    op.drop_index(op.f('ix_device_health_office'), table_name='device_health')
    op.drop_table('device_health')
