"""The validators' consensus rounds as each reports them: one row per (feed, round, reporter),
the reporter being the validator node that decided it (lowercase 0x hex).

A row holds the reporter's claim (view, leader, answer, observation time: fixed once stored)
and its word on the round's fate (status, the signatures it collected: these may advance).
What landed on-chain is never taken from a node: GET /network/rounds joins the indexer's
`Transmitted` events of the feed. One index per filter of GET /network/rounds (newest first).

Revision ID: 0008_consensus_rounds
Revises: 0007_trading
Create Date: 2026-11-30
"""

from alembic import op

revision = "0008_consensus_rounds"
down_revision = "0007_trading"
branch_labels = None
depends_on = None

UPGRADE = [
    """
    CREATE TABLE consensus_rounds (
        id bigserial PRIMARY KEY,
        feed text NOT NULL,
        feed_address text NOT NULL,
        round bigint NOT NULL CHECK (round > 0),
        reporter text NOT NULL,
        view bigint CHECK (view >= 0),
        leader text,
        answer numeric(78, 0) NOT NULL,
        observed_at bigint NOT NULL CHECK (observed_at >= 0),
        signers text[] NOT NULL,
        status text NOT NULL CHECK (status IN ('agreed', 'transmitted', 'failed')),
        decided_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT consensus_rounds_feed_round_reporter_key UNIQUE (feed, round, reporter)
    )""",
    "CREATE INDEX consensus_rounds_by_time ON consensus_rounds (recorded_at, id)",
    "CREATE INDEX consensus_rounds_by_feed ON consensus_rounds (feed, recorded_at, id)",
    "CREATE INDEX consensus_rounds_by_leader ON consensus_rounds (leader, recorded_at, id)",
    "CREATE INDEX consensus_rounds_by_status ON consensus_rounds (status, recorded_at, id)",
]

DOWNGRADE = ["DROP TABLE consensus_rounds"]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
