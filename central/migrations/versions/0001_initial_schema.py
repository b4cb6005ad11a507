"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 01:58:13.489743
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('applications',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('number', sa.Text(), nullable=False),
    sa.Column('office', sa.Text(), nullable=False),
    sa.Column('device_key', sa.Text(), nullable=False),
    sa.Column('service_code', sa.Text(), nullable=False),
    sa.Column('state', sa.Text(), nullable=False),
    sa.Column('issue_mode', sa.Text(), nullable=True),
    sa.Column('fee_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('source_seq', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    op.create_table('audit',
    sa.Column('device_key', sa.Text(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.Text(), nullable=False),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('entity_type', sa.Text(), nullable=False),
    sa.Column('entity_id', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.Text(), nullable=False),
    sa.Column('hash', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('device_key', 'seq')
    )
    op.create_table('decisions',
    sa.Column('application_id', sa.Text(), nullable=False),
    sa.Column('state', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('conditions', sa.Text(), server_default='', nullable=False),
    sa.Column('decided_by', sa.Text(), nullable=False),
    sa.Column('decided_at', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('application_id')
    )
    op.create_table('licences',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('number', sa.Text(), nullable=False),
    sa.Column('application_id', sa.Text(), nullable=False),
    sa.Column('office', sa.Text(), nullable=False),
    sa.Column('device_key', sa.Text(), nullable=False),
    sa.Column('licence_type', sa.Text(), nullable=False),
    sa.Column('issued_at', sa.Text(), nullable=False),
    sa.Column('valid_until', sa.Text(), nullable=False),
    sa.Column('reprint_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('revoked_at', sa.Text(), nullable=True),
    sa.Column('revoke_reason', sa.Text(), nullable=True),
    sa.Column('revoked_by', sa.Text(), nullable=True),
    sa.Column('signed_payload', sa.Text(), nullable=False),
    sa.Column('source_seq', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    op.create_table('meta',
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('offices',
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('payments',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('receipt_number', sa.Text(), nullable=False),
    sa.Column('application_id', sa.Text(), nullable=False),
    sa.Column('office', sa.Text(), nullable=False),
    sa.Column('device_key', sa.Text(), nullable=False),
    sa.Column('method', sa.Text(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.Text(), nullable=False),
    sa.Column('voided_at', sa.Text(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('source_seq', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('receipt_number')
    )
    op.create_table('reference',
    sa.Column('version', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('office', sa.Text(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('at', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('version')
    )
    with op.batch_alter_table('reference', schema=None) as batch_op:
        batch_op.create_index('reference_kind_key', ['kind', 'key'], unique=False)

    op.create_table('rejections',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.Text(), nullable=False),
    sa.Column('device_key', sa.Text(), nullable=True),
    sa.Column('event_id', sa.Text(), nullable=True),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('revocation_lists',
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('issued_at', sa.Text(), nullable=False),
    sa.Column('list', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('number')
    )
    op.create_table('devices',
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('office', sa.Text(), nullable=False),
    sa.Column('device_id', sa.Text(), nullable=False),
    sa.Column('public_key', sa.Text(), nullable=False),
    sa.Column('certificate', sa.Text(), nullable=False),
    sa.Column('token_hash', sa.Text(), nullable=False),
    sa.Column('token_expires_at', sa.Text(), nullable=False),
    sa.Column('enrolled_at', sa.Text(), nullable=False),
    sa.Column('revoked_at', sa.Text(), nullable=True),
    sa.Column('last_contact_at', sa.Text(), nullable=True),
    sa.Column('last_seq', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('received', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('backlog', sa.BigInteger(), nullable=True),
    sa.Column('clock_skew_s', sa.Integer(), nullable=True),
    sa.Column('last_device_time', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['office'], ['offices.code'], ),
    sa.PrimaryKeyConstraint('key'),
    sa.UniqueConstraint('office', 'device_id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_table('enrol_codes',
    sa.Column('code_hash', sa.Text(), nullable=False),
    sa.Column('office', sa.Text(), nullable=False),
    sa.Column('licence_types', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Text(), nullable=False),
    sa.Column('expires_at', sa.Text(), nullable=False),
    sa.Column('used_at', sa.Text(), nullable=True),
    sa.Column('used_by', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['office'], ['offices.code'], ),
    sa.PrimaryKeyConstraint('code_hash')
    )
    op.create_table('events',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('device_key', sa.Text(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('type', sa.Text(), nullable=False),
    sa.Column('entity_id', sa.Text(), nullable=False),
    sa.Column('at', sa.Text(), nullable=False),
    sa.Column('received_at', sa.Text(), nullable=False),
    sa.Column('body_hash', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['device_key'], ['devices.key'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('device_key', 'seq')
    )



def downgrade() -> None:

    op.drop_table('events')
    op.drop_table('enrol_codes')
    op.drop_table('devices')
    op.drop_table('revocation_lists')
    op.drop_table('rejections')
    with op.batch_alter_table('reference', schema=None) as batch_op:
        batch_op.drop_index('reference_kind_key')

    op.drop_table('reference')
    op.drop_table('payments')
    op.drop_table('offices')
    op.drop_table('meta')
    op.drop_table('licences')
    op.drop_table('decisions')
    op.drop_table('audit')
    op.drop_table('applications')

