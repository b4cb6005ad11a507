"""resident keys: residents' personal values arrive sealed; each application's key is kept
wrapped by the data key file in central's home, and deleted to erase the resident

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 23:20:00
"""
import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'resident_keys',
        sa.Column('application_id', sa.Text(), nullable=False),
        sa.Column('office', sa.Text(), nullable=False),
        sa.Column('device_key', sa.Text(), nullable=False),
        sa.Column('wrapped', sa.Text(), nullable=True),
        sa.Column('received_at', sa.Text(), nullable=False),
        sa.Column('erased_at', sa.Text(), nullable=True),
        sa.Column('erase_reason', sa.Text(), nullable=True),
        sa.Column('erased_by', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('application_id'))


def downgrade() -> None:
    op.drop_table('resident_keys')
