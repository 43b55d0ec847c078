"""Indexer tables: raw chain events, projections, checkpoint, recent block hashes, status.

Revision ID: 0001_indexer
Revises:
Create Date: 2026-05-20
"""

from alembic import op

revision = "0001_indexer"
down_revision = None
branch_labels = None
depends_on = None

UINT = "numeric(78, 0)"  # uint256 without float: numeric holds every value exactly

TABLES = [
    """
    CREATE TABLE chain_events (
        chain_id         integer     NOT NULL,
        block_number     bigint      NOT NULL,
        block_hash       text        NOT NULL,
        block_timestamp  timestamptz NOT NULL,
        tx_hash          text        NOT NULL,
        tx_index         integer     NOT NULL,
        log_index        integer     NOT NULL,
        contract_name    text        NOT NULL,
        contract_address text        NOT NULL,
        event_name       text,
        args             jsonb,
        topics           text[]      NOT NULL,
        data             text        NOT NULL,
        PRIMARY KEY (chain_id, tx_hash, log_index)
    )""",
    "CREATE INDEX chain_events_by_block ON chain_events (chain_id, block_number, log_index)",
    """CREATE INDEX chain_events_by_event
           ON chain_events (chain_id, contract_name, event_name, block_number)""",
    """
    CREATE TABLE indexer_checkpoints (
        chain_id     integer PRIMARY KEY,
        block_number bigint  NOT NULL,
        block_hash   text    NOT NULL,
        updated_at   timestamptz NOT NULL DEFAULT now()
    )""",
    """
    CREATE TABLE indexer_blocks (
        chain_id     integer NOT NULL,
        block_number bigint  NOT NULL,
        block_hash   text    NOT NULL,
        parent_hash  text    NOT NULL,
        PRIMARY KEY (chain_id, block_number)
    )""",
    """
    CREATE TABLE indexer_status (
        chain_id          integer PRIMARY KEY,
        head_block        bigint NOT NULL,
        indexed_block     bigint NOT NULL,
        lag_blocks        bigint NOT NULL,
        lag_seconds       double precision NOT NULL,
        events_per_second double precision NOT NULL DEFAULT 0,
        reorgs            bigint NOT NULL DEFAULT 0,
        max_lag_blocks    bigint NOT NULL,
        updated_at        timestamptz NOT NULL DEFAULT now()
    )""",
    f"""
    CREATE TABLE licenses (
        chain_id          integer  NOT NULL,
        contract_address  text     NOT NULL,
        token_id          {UINT}   NOT NULL,
        owner             text     NOT NULL,
        node_type         smallint NOT NULL,
        status            text     NOT NULL
                          CHECK (status IN ('active', 'suspended', 'revoked')),
        status_reason     text,
        application_id    text     NOT NULL,
        minted_block      bigint   NOT NULL,
        minted_tx         text     NOT NULL,
        last_change_block bigint   NOT NULL,
        PRIMARY KEY (chain_id, contract_address, token_id)
    )""",
    "CREATE INDEX licenses_by_owner ON licenses (chain_id, owner, node_type)",
    """
    CREATE TABLE role_members (
        chain_id         integer NOT NULL,
        contract_address text    NOT NULL,
        contract_name    text    NOT NULL,
        role             text    NOT NULL,
        role_name        text,
        account          text    NOT NULL,
        granted_by       text    NOT NULL,
        granted_block    bigint  NOT NULL,
        PRIMARY KEY (chain_id, contract_address, role, account)
    )""",
    "CREATE INDEX role_members_by_account ON role_members (chain_id, account)",
    f"""
    CREATE TABLE proposals (
        chain_id          integer NOT NULL,
        governor_address  text    NOT NULL,
        proposal_id       {UINT}  NOT NULL,
        proposer          text    NOT NULL,
        targets           jsonb   NOT NULL,
        "values"          jsonb   NOT NULL,
        calldatas         jsonb   NOT NULL,
        description       text    NOT NULL,
        state             text    NOT NULL
                          CHECK (state IN ('created', 'queued', 'executed', 'canceled')),
        snapshot          {UINT}  NOT NULL,
        deadline          {UINT}  NOT NULL,
        eta               {UINT},
        votes_for         {UINT}  NOT NULL DEFAULT 0,
        votes_against     {UINT}  NOT NULL DEFAULT 0,
        votes_abstain     {UINT}  NOT NULL DEFAULT 0,
        created_block     bigint  NOT NULL,
        last_change_block bigint  NOT NULL,
        PRIMARY KEY (chain_id, governor_address, proposal_id)
    )""",
    f"""
    CREATE TABLE votes (
        chain_id         integer  NOT NULL,
        governor_address text     NOT NULL,
        proposal_id      {UINT}   NOT NULL,
        voter            text     NOT NULL,
        token_id         {UINT}   NOT NULL,
        support          smallint NOT NULL,
        weight           {UINT}   NOT NULL,
        reason           text     NOT NULL,
        block_number     bigint   NOT NULL,
        tx_hash          text     NOT NULL,
        log_index        integer  NOT NULL,
        PRIMARY KEY (chain_id, tx_hash, log_index)
    )""",
    "CREATE INDEX votes_by_proposal ON votes (chain_id, governor_address, proposal_id)",
]

DROPPED = ["votes", "proposals", "role_members", "licenses", "indexer_status",
           "indexer_blocks", "indexer_checkpoints", "chain_events"]


def upgrade() -> None:
    for statement in TABLES:
        op.execute(statement)


def downgrade() -> None:
    for table in DROPPED:
        op.execute(f"DROP TABLE {table}")
