"""What a node function's run found, on its execution record: `node_executions.result`, a
JSON object (noderr/execution_results.py: whom detect_double_sign named, which peers
score_peer scored low), null for the runs that report nothing.

The backend validates its shape at intake; the check is the database's own bound on its size
(MAX_STORED_BYTES), so no writer stores an unbounded blob.

Revision ID: 0011_execution_results
Revises: 0010_consensus_message_bounds
Create Date: 2026-12-01
"""

from alembic import op

revision = "0011_execution_results"
down_revision = "0010_consensus_message_bounds"
branch_labels = None
depends_on = None

UPGRADE = [
    """
    ALTER TABLE node_executions ADD COLUMN result jsonb
        CONSTRAINT node_executions_result_check
        CHECK (jsonb_typeof(result) = 'object' AND octet_length(result::text) <= 16384)""",
]

DOWNGRADE = ["ALTER TABLE node_executions DROP COLUMN result"]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
