"""device roles: PIN hashes go only to the devices that sign people in

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 20:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Devices and codes from before roles received every PIN hash, as hubs do: they keep
    # doing so until re-enrolled with their real role.
    op.add_column('enrol_codes', sa.Column('role', sa.Text(), nullable=False,
                                           server_default='hub'))
    op.add_column('devices', sa.Column('role', sa.Text(), nullable=False,
                                       server_default='hub'))


def downgrade() -> None:
    op.drop_column('devices', 'role')
    op.drop_column('enrol_codes', 'role')
