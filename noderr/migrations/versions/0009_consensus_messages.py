"""Every consensus message a validator signed or received, as it reports it: one row per
(reporter, feed, signed digest), the reporter being the validator node that posted it.

A row keeps the message's signed text and its author's signature, so anyone holding the chain
id checks it again; phase, sender, round, view and proposal digest are read from that text by
the backend, which refuses a message whose signature does not recover to its sender (a
validator cannot plant another's word). The signed digest covers everything the message says,
so the key is the (reporter, feed, round, view, phase, sender, digest) of the message and
more: a batch posted again stores nothing new, a retransmitted message is one row. The
listing of a round's messages reads them by (feed, round), newest first.

Revision ID: 0009_consensus_messages
Revises: 0008_consensus_rounds
Create Date: 2026-12-01
"""

from alembic import op

revision = "0009_consensus_messages"
down_revision = "0008_consensus_rounds"
branch_labels = None
depends_on = None

UPGRADE = [
    """
    CREATE TABLE consensus_messages (
        id bigserial PRIMARY KEY,
        feed text NOT NULL,
        round bigint NOT NULL CHECK (round > 0),
        view bigint CHECK (view >= 0),
        phase text NOT NULL CHECK (phase IN ('pre_prepare', 'prepare', 'commit',
                                             'view_change', 'new_view', 'decided')),
        sender text NOT NULL,
        digest text,
        signed_digest bytea NOT NULL,
        signature bytea NOT NULL,
        text text NOT NULL,
        reporter text NOT NULL,
        seen_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT consensus_messages_reporter_feed_signed_digest_key
            UNIQUE (reporter, feed, signed_digest)
    )""",
    "CREATE INDEX consensus_messages_by_round ON consensus_messages "
    "(feed, round, recorded_at, id)",
]

DOWNGRADE = ["DROP TABLE consensus_messages"]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
