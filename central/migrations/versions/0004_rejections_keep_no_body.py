"""rejections keep a refused body's digest, not the body (it may hold residents' data)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 20:10:00
"""
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The first 2,000 bytes of each refused body were kept as hex: names and national IDs
    # among them. They cannot be turned into the whole body's digest, so they go.
    op.execute("UPDATE rejections SET body = NULL WHERE body NOT LIKE 'sha256:%'")


def downgrade() -> None:
    pass  # what was removed is not brought back
