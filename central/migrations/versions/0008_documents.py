"""documents: the pages offices' events name, the files central holds (each once) and the
back office's requests for a document (central/documents.py)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 09:00:00
"""
import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'document_pages',
        sa.Column('event_id', sa.Text(), nullable=False),
        sa.Column('office', sa.Text(), nullable=False),
        sa.Column('device_key', sa.Text(), nullable=False),
        sa.Column('application_id', sa.Text(), nullable=False),
        sa.Column('doc_key', sa.Text(), nullable=False),
        sa.Column('page', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.Text(), nullable=False),
        sa.Column('bytes', sa.BigInteger(), nullable=False),
        sa.Column('media_type', sa.Text(), nullable=False),
        sa.Column('source', sa.Text(), nullable=True),
        sa.Column('added_at', sa.Text(), nullable=False),
        sa.Column('removed_at', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('event_id'))
    op.create_index('document_pages_application', 'document_pages',
                    ['application_id', 'doc_key', 'page'])
    op.create_index('document_pages_sha', 'document_pages', ['sha256', 'device_key'])
    op.create_table(
        'document_files',
        sa.Column('sha256', sa.Text(), nullable=False),
        sa.Column('bytes', sa.BigInteger(), nullable=False),
        sa.Column('media_type', sa.Text(), nullable=False),
        sa.Column('stored_at', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('sha256'))
    op.create_table(
        'document_requests',
        sa.Column('id', sa.Text(), nullable=False),
        sa.Column('application_id', sa.Text(), nullable=False),
        sa.Column('office', sa.Text(), nullable=False),
        sa.Column('doc_key', sa.Text(), nullable=False),
        sa.Column('note', sa.Text(), server_default='', nullable=False),
        sa.Column('requested_by', sa.Text(), nullable=False),
        sa.Column('requested_at', sa.Text(), nullable=False),
        sa.Column('answered_at', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('document_requests_application', 'document_requests', ['application_id'])


def downgrade() -> None:
    op.drop_table('document_requests')
    op.drop_table('document_files')
    op.drop_table('document_pages')
