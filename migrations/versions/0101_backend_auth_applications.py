"""Backend tables: SIWE nonces, sessions, applications and their history, Typeform events.

Revision ID: 0101_backend
Revises: 0001
Create Date: 2026-05-20
"""

from alembic import op

from backend.schema import DOWNGRADE, UPGRADE

revision = "0101_backend"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
