"""appointment_plans and appointments: slots booked at central for an office's services
(central/appointments.py, docs/appointments.md)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 03:30:00
"""
from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    from central import db
    db.appointment_plans.create(op.get_bind())
    db.appointments.create(op.get_bind())


def downgrade() -> None:
    from central import db
    db.appointments.drop(op.get_bind())
    db.appointment_plans.drop(op.get_bind())
