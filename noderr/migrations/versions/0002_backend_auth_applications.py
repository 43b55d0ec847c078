"""Backend tables: SIWE nonces, sessions, applications and their history, Typeform events.

Revision ID: 0002_backend
Revises: 0001_indexer
Create Date: 2026-05-20
"""

from alembic import op

revision = "0002_backend"
down_revision = "0001_indexer"
branch_labels = None
depends_on = None

UPGRADE = [
    """
    CREATE TABLE siwe_nonces (
        nonce text PRIMARY KEY,
        issued_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz
    )""",
    "CREATE INDEX siwe_nonces_expires_at ON siwe_nonces (expires_at)",
    """
    CREATE TABLE sessions (
        token_hash bytea PRIMARY KEY,
        address text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz
    )""",
    "CREATE INDEX sessions_address ON sessions (address)",
    """
    CREATE TABLE applications (
        id uuid PRIMARY KEY,
        application_id text NOT NULL UNIQUE,
        source text NOT NULL CHECK (source IN ('typeform', 'api')),
        typeform_token text UNIQUE,
        applicant_name text NOT NULL,
        contact text NOT NULL,
        wallet_address text NOT NULL,
        wallet_verified boolean NOT NULL DEFAULT false,
        node_type smallint NOT NULL CHECK (node_type BETWEEN 1 AND 3),
        region text NOT NULL DEFAULT '',
        experience text NOT NULL DEFAULT '',
        answers jsonb NOT NULL DEFAULT '{}'::jsonb,
        status text NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'approved', 'rejected', 'minted')),
        review_note text,
        token_id numeric(78, 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
    )""",
    "CREATE INDEX applications_status ON applications (status, created_at)",
    "CREATE INDEX applications_wallet ON applications (lower(wallet_address))",
    """
    CREATE TABLE application_events (
        id bigserial PRIMARY KEY,
        application uuid NOT NULL REFERENCES applications (id),
        action text NOT NULL,
        from_status text,
        to_status text NOT NULL,
        actor text NOT NULL,
        note text,
        at timestamptz NOT NULL DEFAULT now()
    )""",
    "CREATE INDEX application_events_application ON application_events (application, id)",
    """
    CREATE TABLE typeform_events (
        event_id text PRIMARY KEY,
        response_token text NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now()
    )""",
]

DOWNGRADE = [
    "DROP TABLE typeform_events",
    "DROP TABLE application_events",
    "DROP TABLE applications",
    "DROP TABLE sessions",
    "DROP TABLE siwe_nonces",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
