"""The node network: the function catalogue, node health and execution logs.

`node_functions` holds noderr.catalogue.CATALOGUE (the API upserts it at start);
`node_health` one row per node (address, license) with its last heartbeat;
`node_executions` every reported execution, with an index per filter of
GET /network/executions (newest first).

Revision ID: 0006_network
Revises: 0005_cost_limits
Create Date: 2026-12-04
"""

from alembic import op

revision = "0006_network"
down_revision = "0005_cost_limits"
branch_labels = None
depends_on = None

UPGRADE = [
    """
    CREATE TABLE node_functions (
        name text PRIMARY KEY,
        ordinal smallint NOT NULL,
        node_type smallint NOT NULL CHECK (node_type BETWEEN 1 AND 3),
        category text NOT NULL,
        description text NOT NULL
    )""",
    """
    CREATE TABLE node_health (
        address text NOT NULL,
        token_id numeric(78, 0) NOT NULL,
        node_type smallint NOT NULL CHECK (node_type BETWEEN 1 AND 3),
        state text NOT NULL CHECK (state IN ('active', 'suspended', 'stopping')),
        software_version text NOT NULL,
        started_at timestamptz NOT NULL DEFAULT now(),
        last_heartbeat timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (address, token_id)
    )""",
    """
    CREATE TABLE node_executions (
        id bigserial PRIMARY KEY,
        address text NOT NULL,
        node_type smallint NOT NULL CHECK (node_type BETWEEN 1 AND 3),
        token_id numeric(78, 0) NOT NULL,
        function text NOT NULL,
        started_at timestamptz NOT NULL,
        duration_ms double precision NOT NULL CHECK (duration_ms >= 0),
        outcome text NOT NULL CHECK (outcome IN ('ok', 'rejected', 'error')),
        error text,
        recorded_at timestamptz NOT NULL DEFAULT now()
    )""",
    "CREATE INDEX node_executions_by_time ON node_executions (started_at, id)",
    "CREATE INDEX node_executions_by_function ON node_executions (function, started_at, id)",
    "CREATE INDEX node_executions_by_address ON node_executions (address, started_at, id)",
    "CREATE INDEX node_executions_by_outcome ON node_executions (outcome, started_at, id)",
]

DOWNGRADE = [
    "DROP TABLE node_executions",
    "DROP TABLE node_health",
    "DROP TABLE node_functions",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
