"""refused events: held for the audit chain, not applied

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05 19:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('events', sa.Column('refused', sa.Text(), nullable=True))
    op.add_column('events', sa.Column('refused_reason', sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column('events', 'refused_reason')
    op.drop_column('events', 'refused')
