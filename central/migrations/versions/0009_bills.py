"""bills: central as the biller — the offices' bills, the networks' payment notifications,
refused replays and the daily settlement files (central/bills.py)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 10:00:00
"""
import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'bills',
        sa.Column('number', sa.Text(), nullable=False),
        sa.Column('office', sa.Text(), nullable=False),
        sa.Column('device_key', sa.Text(), nullable=False),
        sa.Column('application_id', sa.Text(), nullable=False),
        sa.Column('application_number', sa.Text(), nullable=False),
        sa.Column('amount_minor', sa.BigInteger(), nullable=False),
        sa.Column('currency', sa.Text(), nullable=False),
        sa.Column('due_at', sa.Text(), nullable=False),
        sa.Column('issued_at', sa.Text(), nullable=False),
        sa.Column('cancelled_at', sa.Text(), nullable=True),
        sa.Column('cancel_reason', sa.Text(), nullable=True),
        sa.Column('paid_at', sa.Text(), nullable=True),
        sa.Column('paid_transaction', sa.Text(), nullable=True),
        sa.Column('office_paid_at', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('number'))
    op.create_index('bills_application', 'bills', ['application_id'])
    op.create_table(
        'bill_notifications',
        sa.Column('transaction_id', sa.Text(), nullable=False),
        sa.Column('network', sa.Text(), nullable=False),
        sa.Column('bill_number', sa.Text(), nullable=False),
        sa.Column('amount_minor', sa.BigInteger(), nullable=False),
        sa.Column('paid_at', sa.Text(), nullable=False),
        sa.Column('paid_date', sa.Text(), nullable=False),
        sa.Column('received_at', sa.Text(), nullable=False),
        sa.Column('body_hash', sa.Text(), nullable=False),
        sa.Column('outcome', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('transaction_id'))
    op.create_index('bill_notifications_date', 'bill_notifications', ['paid_date'])
    op.create_index('bill_notifications_bill', 'bill_notifications', ['bill_number'])
    op.create_table(
        'bill_refusals',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('at', sa.Text(), nullable=False),
        sa.Column('transaction_id', sa.Text(), nullable=False),
        sa.Column('bill_number', sa.Text(), nullable=False),
        sa.Column('amount_minor', sa.BigInteger(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('bill_refusals_transaction', 'bill_refusals', ['transaction_id'])
    op.create_table(
        'settlement_lines',
        sa.Column('date', sa.Text(), nullable=False),
        sa.Column('line', sa.Integer(), nullable=False),
        sa.Column('transaction_id', sa.Text(), nullable=False),
        sa.Column('bill_number', sa.Text(), nullable=False),
        sa.Column('amount_minor', sa.BigInteger(), nullable=False),
        sa.Column('paid_at', sa.Text(), nullable=False),
        sa.Column('network', sa.Text(), nullable=False),
        sa.Column('problem', sa.Text(), nullable=True),
        sa.Column('imported_at', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('date', 'line'))


def downgrade() -> None:
    op.drop_table('settlement_lines')
    op.drop_table('bill_refusals')
    op.drop_table('bill_notifications')
    op.drop_table('bills')
