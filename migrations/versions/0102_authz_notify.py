"""Triggers that NOTIFY the API's caller cache of every change to licenses, roles, sessions
and the indexer's checkpoint.

Revision ID: 0102_authz_notify
Revises: 0201_vault
Create Date: 2026-11-26
"""

from alembic import op

from backend.schema import NOTIFY_DOWNGRADE, NOTIFY_UPGRADE

revision = "0102_authz_notify"
down_revision = "0201_vault"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in NOTIFY_UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in NOTIFY_DOWNGRADE:
        op.execute(statement)
