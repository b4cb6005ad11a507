"""kpi_* facts: the figures' five tables (core.kpis.FACT_TABLES), offices.timezone, and the
facts of the events already held, projected again in each device's order (central/reports.py,
docs/console/reports.md)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 18:00:00
"""
import sqlalchemy as sa
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    from central import db, reports
    op.add_column('offices', sa.Column('timezone', sa.Text(), nullable=True))
    bind = op.get_bind()
    # Built from the one spec (core.kpis.FACT_TABLES), as central/db.py's tables are: a change
    # of a column there needs a migration of its own.
    for table in db.FACTS.values():
        table.create(bind)
    reports.reproject(bind)


def downgrade() -> None:
    from central import db
    for table in reversed(list(db.FACTS.values())):
        table.drop(op.get_bind())
    # Plain ALTER TABLE (SQLite 3.35+): a batch copy of offices trips its foreign keys.
    op.execute('ALTER TABLE offices DROP COLUMN timezone')
