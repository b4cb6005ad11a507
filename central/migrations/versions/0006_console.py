"""console: municipalities own offices; staff with passwords, sessions, named API keys and an
audit of every console action (docs/console.md)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 05:30:00
"""
import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'municipalities',
        sa.Column('code', sa.Text(), nullable=False),
        sa.Column('name_ar', sa.Text(), nullable=False),
        sa.Column('name_en', sa.Text(), nullable=False),
        sa.Column('created_at', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('code'))
    op.add_column('offices', sa.Column('municipality', sa.Text(), nullable=True))
    op.create_index('ix_offices_municipality', 'offices', ['municipality'])
    op.create_table(
        'staff',
        sa.Column('username', sa.Text(), nullable=False),
        sa.Column('full_name', sa.Text(), nullable=False),
        sa.Column('role', sa.Text(), nullable=False),
        sa.Column('municipality', sa.Text(), nullable=True),
        sa.Column('language', sa.Text(), server_default='ar', nullable=False),
        sa.Column('password_hash', sa.Text(), nullable=False),
        sa.Column('totp_secret', sa.Text(), nullable=True),
        sa.Column('totp_last_step', sa.BigInteger(), nullable=True),
        sa.Column('failed_count', sa.Integer(), server_default='0', nullable=False),
        sa.Column('locked_until', sa.Text(), nullable=True),
        sa.Column('active', sa.Integer(), server_default='1', nullable=False),
        sa.Column('created_at', sa.Text(), nullable=False),
        sa.Column('created_by', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('username'))
    op.create_table(
        'console_sessions',
        sa.Column('token_hash', sa.Text(), nullable=False),
        sa.Column('username', sa.Text(), nullable=False),
        sa.Column('csrf_token', sa.Text(), nullable=False),
        sa.Column('second_factor', sa.Integer(), server_default='0', nullable=False),
        sa.Column('created_at', sa.Text(), nullable=False),
        sa.Column('last_seen_at', sa.Text(), nullable=False),
        sa.Column('expires_at', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['username'], ['staff.username']),
        sa.PrimaryKeyConstraint('token_hash'))
    op.create_index('console_sessions_username', 'console_sessions', ['username'])
    op.create_table(
        'api_keys',
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('key_hash', sa.Text(), nullable=False),
        sa.Column('role', sa.Text(), nullable=False),
        sa.Column('municipality', sa.Text(), nullable=True),
        sa.Column('created_at', sa.Text(), nullable=False),
        sa.Column('created_by', sa.Text(), nullable=False),
        sa.Column('last_used_at', sa.Text(), nullable=True),
        sa.Column('revoked_at', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('name'),
        sa.UniqueConstraint('key_hash'))
    op.create_table(
        'console_audit',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('at', sa.Text(), nullable=False),
        sa.Column('actor', sa.Text(), nullable=False),
        sa.Column('action', sa.Text(), nullable=False),
        sa.Column('entity_type', sa.Text(), nullable=False),
        sa.Column('entity_id', sa.Text(), nullable=False),
        sa.Column('municipality', sa.Text(), nullable=True),
        sa.Column('detail', sa.Text(), server_default='{}', nullable=False),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('console_audit_entity', 'console_audit', ['entity_type', 'entity_id'])
    # The admin token of a central made before named keys becomes the key "root" (its hash is
    # the same sha256 a key is kept as), so admin.token keeps working after the upgrade.
    op.execute("INSERT INTO api_keys (name, key_hash, role, municipality, created_at, "
               "created_by) SELECT 'root', value, 'admin', NULL, '2026-12-06T00:00:00+00:00', "
               "'migration 0006' FROM meta WHERE key = 'admin_token_hash'")
    op.execute("DELETE FROM meta WHERE key = 'admin_token_hash'")


def downgrade() -> None:
    op.drop_table('console_audit')
    op.drop_table('api_keys')
    op.drop_index('console_sessions_username', 'console_sessions')
    op.drop_table('console_sessions')
    op.drop_table('staff')
    op.drop_index('ix_offices_municipality', 'offices')
    op.drop_column('offices', 'municipality')
    op.drop_table('municipalities')
