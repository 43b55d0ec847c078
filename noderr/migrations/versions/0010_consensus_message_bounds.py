"""What bounds the consensus messages a validator reports, and what retention prunes them by.

- (reporter, feed, round): at intake the backend counts a reporter's rows of each round its
  batch touches (at most MAX_PER_ROUND per reporter, feed and round;
  backend/consensus_messages.py). Without it the count scans every row of the reporter and
  feed, about 280,000 a day at n = 4.
- (recorded_at): `noderr db prune` deletes the rows older than the retention window oldest
  first, in batches.

Revision ID: 0010_consensus_message_bounds
Revises: 0009_consensus_messages
Create Date: 2026-12-01
"""

from alembic import op

revision = "0010_consensus_message_bounds"
down_revision = "0009_consensus_messages"
branch_labels = None
depends_on = None

UPGRADE = [
    "CREATE INDEX consensus_messages_by_reporter_round ON consensus_messages "
    "(reporter, feed, round)",
    "CREATE INDEX consensus_messages_by_recorded_at ON consensus_messages (recorded_at)",
]

DOWNGRADE = [
    "DROP INDEX consensus_messages_by_recorded_at",
    "DROP INDEX consensus_messages_by_reporter_round",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
