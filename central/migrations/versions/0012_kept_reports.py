"""kept_reports: the reports of closed periods, kept until a late fact touches their days
(central/reports.py, docs/console/reports.md)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 21:00:00
"""
from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    from central import db
    db.kept_reports.create(op.get_bind())


def downgrade() -> None:
    from central import db
    db.kept_reports.drop(op.get_bind())
