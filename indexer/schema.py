"""The indexer's tables, as the code expects them: raw chain events, the projections
(licenses, role_members, proposals, votes), the checkpoint, recent block hashes and status.

The indexer is their only writer. Outside the indexer, only backend/mirror.py reads
them: a change to a projection touches this module and that one.
The migrations (noderr/migrations/versions/) build them; tests/migrations checks that the
migrated database equals these definitions, so a change here needs a new revision there.

Conventions: addresses, hashes and bytes are lowercase `0x` hex text; uint256 values are
`numeric(78, 0)` (exact, never float); every table has `chain_id`.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Double,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

CHAIN_EVENTS = "chain_events"
INDEXER_CHECKPOINTS = "indexer_checkpoints"
INDEXER_BLOCKS = "indexer_blocks"
INDEXER_STATUS = "indexer_status"
LICENSES = "licenses"
ROLE_MEMBERS = "role_members"
PROPOSALS = "proposals"
VOTES = "votes"

UINT256 = Numeric(78, 0)  # uint256 without float: numeric holds every value exactly

metadata = MetaData()

chain_events = Table(
    CHAIN_EVENTS, metadata,
    Column("chain_id", Integer, primary_key=True),
    Column("block_number", BigInteger, nullable=False),
    Column("block_hash", Text, nullable=False),
    Column("block_timestamp", DateTime(timezone=True), nullable=False),
    Column("tx_hash", Text, primary_key=True),
    Column("tx_index", Integer, nullable=False),
    Column("log_index", Integer, primary_key=True),
    Column("contract_name", Text, nullable=False),
    Column("contract_address", Text, nullable=False),
    Column("event_name", Text),
    Column("args", JSONB),
    Column("topics", ARRAY(Text), nullable=False),
    Column("data", Text, nullable=False),
    Index("chain_events_by_block", "chain_id", "block_number", "log_index"),
    Index("chain_events_by_event", "chain_id", "contract_name", "event_name", "block_number"),
    # One per filter of GET /events (backend/mirror.py:EVENT_FILTERS), so no filter value
    # makes a public request scan the table.
    Index("chain_events_by_contract_address", "chain_id", "contract_address", "block_number"),
    Index("chain_events_by_event_name", "chain_id", "event_name", "block_number"),
    Index("chain_events_by_token_id", "chain_id",
          text("coalesce(args ->> 'token_id', args ->> 'tokenId')"), "block_number"),
    Index("chain_events_by_timestamp", "chain_id", "block_timestamp"),
    # fastupdate off: rows enter the index as they are inserted, not through a pending list
    # that the planner prices as a scan (it then prefers a sequential scan of the table).
    Index("chain_events_args", "args", postgresql_using="gin",
          postgresql_with={"fastupdate": "off"}),
)

indexer_checkpoints = Table(
    INDEXER_CHECKPOINTS, metadata,
    Column("chain_id", Integer, primary_key=True, autoincrement=False),
    Column("block_number", BigInteger, nullable=False),
    Column("block_hash", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)

indexer_blocks = Table(
    INDEXER_BLOCKS, metadata,
    Column("chain_id", Integer, primary_key=True),
    Column("block_number", BigInteger, primary_key=True),
    Column("block_hash", Text, nullable=False),
    Column("parent_hash", Text, nullable=False),
)

indexer_status = Table(
    INDEXER_STATUS, metadata,
    Column("chain_id", Integer, primary_key=True, autoincrement=False),
    Column("head_block", BigInteger, nullable=False),
    Column("indexed_block", BigInteger, nullable=False),
    Column("lag_blocks", BigInteger, nullable=False),
    Column("lag_seconds", Double, nullable=False),
    Column("events_per_second", Double, nullable=False, server_default=text("0")),
    Column("reorgs", BigInteger, nullable=False, server_default=text("0")),
    Column("max_lag_blocks", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)

licenses = Table(
    LICENSES, metadata,
    Column("chain_id", Integer, primary_key=True),
    Column("contract_address", Text, primary_key=True),
    Column("token_id", UINT256, primary_key=True),
    Column("owner", Text, nullable=False),
    Column("node_type", SmallInteger, nullable=False),
    Column("status", Text, nullable=False),
    Column("status_reason", Text),
    Column("application_id", Text, nullable=False),
    Column("minted_block", BigInteger, nullable=False),
    Column("minted_tx", Text, nullable=False),
    Column("last_change_block", BigInteger, nullable=False),
    CheckConstraint("status IN ('active', 'suspended', 'revoked')",
                    name="licenses_status_check"),
    Index("licenses_by_owner", "chain_id", "owner", "node_type"),
    Index("licenses_by_status", "chain_id", "contract_address", "status", "token_id"),
    Index("licenses_by_node_type", "chain_id", "contract_address", "node_type", "token_id"),
)

role_members = Table(
    ROLE_MEMBERS, metadata,
    Column("chain_id", Integer, primary_key=True),
    Column("contract_address", Text, primary_key=True),
    Column("contract_name", Text, nullable=False),
    Column("role", Text, primary_key=True),
    Column("role_name", Text),
    Column("account", Text, primary_key=True),
    Column("granted_by", Text, nullable=False),
    Column("granted_block", BigInteger, nullable=False),
    Index("role_members_by_account", "chain_id", "account"),
)

proposals = Table(
    PROPOSALS, metadata,
    Column("chain_id", Integer, primary_key=True),
    Column("governor_address", Text, primary_key=True),
    Column("proposal_id", UINT256, primary_key=True),
    Column("proposer", Text, nullable=False),
    Column("targets", JSONB, nullable=False),
    Column("values", JSONB, nullable=False),
    Column("calldatas", JSONB, nullable=False),
    Column("description", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("snapshot", UINT256, nullable=False),
    Column("deadline", UINT256, nullable=False),
    Column("eta", UINT256),
    Column("votes_for", UINT256, nullable=False, server_default=text("0")),
    Column("votes_against", UINT256, nullable=False, server_default=text("0")),
    Column("votes_abstain", UINT256, nullable=False, server_default=text("0")),
    Column("created_block", BigInteger, nullable=False),
    Column("last_change_block", BigInteger, nullable=False),
    CheckConstraint("state IN ('created', 'queued', 'executed', 'canceled')",
                    name="proposals_state_check"),
    Index("proposals_by_created", "chain_id", "created_block"),
    Index("proposals_by_state", "chain_id", "state", "created_block"),
)

votes = Table(
    VOTES, metadata,
    Column("chain_id", Integer, primary_key=True),
    Column("governor_address", Text, nullable=False),
    Column("proposal_id", UINT256, nullable=False),
    Column("voter", Text, nullable=False),
    Column("token_id", UINT256, nullable=False),
    Column("support", SmallInteger, nullable=False),
    Column("weight", UINT256, nullable=False),
    Column("reason", Text, nullable=False),
    Column("block_number", BigInteger, nullable=False),
    Column("tx_hash", Text, primary_key=True),
    Column("log_index", Integer, primary_key=True),
    Index("votes_by_proposal", "chain_id", "governor_address", "proposal_id"),
)
