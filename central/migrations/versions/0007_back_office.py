"""back office: what the console reads fast at a million applications (central/backoffice.py):
the awaiting list, the blind search index, applications' submission time, the indexes an
application's page and the licences page use, and two optional batch fields on devices

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 06:00:00
"""
import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('devices', sa.Column('oldest_pending_at', sa.Text(), nullable=True))
    op.add_column('devices', sa.Column('app_version', sa.Text(), nullable=True))
    op.add_column('applications', sa.Column('submitted_at', sa.Text(), nullable=True))
    op.create_index('events_entity', 'events', ['entity_id'])
    op.create_index('rejections_at', 'rejections', ['at'])
    op.create_index('payments_application', 'payments', ['application_id'])
    op.create_index('licences_application', 'licences', ['application_id'])
    op.create_index('licences_issued', 'licences', ['issued_at', 'id'])
    op.create_table(
        'awaiting',
        sa.Column('application_id', sa.Text(), nullable=False),
        sa.Column('number', sa.Text(), nullable=False),
        sa.Column('office', sa.Text(), nullable=False),
        sa.Column('service_code', sa.Text(), nullable=False),
        sa.Column('submitted_at', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('application_id'))
    op.create_index('awaiting_order', 'awaiting', ['submitted_at', 'application_id'])
    op.create_index('awaiting_office', 'awaiting', ['office', 'submitted_at'])
    op.create_index('awaiting_service', 'awaiting', ['service_code', 'submitted_at'])
    op.create_table(
        'search_tags',
        sa.Column('tag', sa.Text(), nullable=False),
        sa.Column('application_id', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('tag', 'application_id'))
    op.create_index('search_tags_application', 'search_tags', ['application_id'])
    # Existing rows: the submission time from the body, and what awaits a decision. The
    # search index needs the residents' keys: Central.open fills it (central/backoffice.py).
    submitted = "json_extract(body, '$.submitted_at')" if op.get_bind().dialect.name == \
        "sqlite" else "(body::json ->> 'submitted_at')"
    op.execute(f"UPDATE applications SET submitted_at = {submitted}")
    op.execute("INSERT INTO awaiting (application_id, number, office, service_code, "
               "submitted_at) SELECT a.id, a.number, a.office, a.service_code, a.submitted_at "
               "FROM applications a LEFT JOIN decisions d ON d.application_id = a.id "
               "WHERE a.issue_mode = 'review' AND a.state IN ('submitted', 'paid') "
               "AND a.submitted_at IS NOT NULL AND d.application_id IS NULL")


def downgrade() -> None:
    op.drop_table('search_tags')
    op.drop_table('awaiting')
    for index, table in (('licences_issued', 'licences'), ('licences_application', 'licences'),
                         ('payments_application', 'payments'), ('rejections_at', 'rejections'),
                         ('events_entity', 'events')):
        op.drop_index(index, table)
    op.drop_column('applications', 'submitted_at')
    op.drop_column('devices', 'app_version')
    op.drop_column('devices', 'oldest_pending_at')
