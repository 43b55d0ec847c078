"""Vault tables: wrapped data keys per license, secret versions, hash-chained audit log.

Revision ID: 0201_vault
Revises: 0101_backend
Create Date: 2026-05-21
"""

from alembic import op

from backend.vault.schema import DOWNGRADE, UPGRADE

revision = "0201_vault"
down_revision = "0101_backend"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
