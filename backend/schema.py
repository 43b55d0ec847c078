"""The backend's own tables, as the code expects them: SIWE nonces, sessions, applications and
their history, Typeform events, the node network's function catalogue, node health and
execution logs; and the triggers that announce authorization changes.

The migrations (noderr/migrations/versions/) build them; tests/migrations checks that the
migrated database equals these definitions (tables, constraints, indexes, and the functions
and triggers of FUNCTIONS_AND_TRIGGERS), so a change here needs a new revision there. The
indexer's tables (indexer/schema.py) are read, never written, by the backend: it only adds
triggers that announce their changes."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Double,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    Numeric,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from indexer.schema import INDEXER_CHECKPOINTS, LICENSES, ROLE_MEMBERS, UINT256

SIWE_NONCES = "siwe_nonces"
SESSIONS = "sessions"
APPLICATIONS = "applications"
APPLICATION_EVENTS = "application_events"
TYPEFORM_EVENTS = "typeform_events"
NODE_FUNCTIONS = "node_functions"
NODE_HEALTH = "node_health"
NODE_EXECUTIONS = "node_executions"

metadata = MetaData()

siwe_nonces = Table(
    SIWE_NONCES, metadata,
    Column("nonce", Text, primary_key=True),
    Column("issued_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    Index("siwe_nonces_expires_at", "expires_at"),
)

sessions = Table(
    SESSIONS, metadata,
    Column("token_hash", LargeBinary, primary_key=True),
    Column("address", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Index("sessions_address", "address"),
)

applications = Table(
    APPLICATIONS, metadata,
    Column("id", Uuid, primary_key=True),
    Column("application_id", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("typeform_token", Text),
    Column("applicant_name", Text, nullable=False),
    Column("contact", Text, nullable=False),
    Column("wallet_address", Text, nullable=False),
    Column("wallet_verified", Boolean, nullable=False, server_default=text("false")),
    Column("node_type", SmallInteger, nullable=False),
    Column("region", Text, nullable=False, server_default=text("''")),
    Column("experience", Text, nullable=False, server_default=text("''")),
    Column("answers", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("status", Text, nullable=False, server_default=text("'pending'")),
    Column("review_note", Text),
    Column("token_id", Numeric(78, 0)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    UniqueConstraint("application_id", name="applications_application_id_key"),
    UniqueConstraint("typeform_token", name="applications_typeform_token_key"),
    CheckConstraint("source IN ('typeform', 'api')", name="applications_source_check"),
    CheckConstraint("node_type BETWEEN 1 AND 3", name="applications_node_type_check"),
    CheckConstraint("status IN ('pending', 'approved', 'rejected', 'minted')",
                    name="applications_status_check"),
    Index("applications_status", "status", "created_at"),
    Index("applications_created_at", "created_at", "id"),
    Index("applications_node_type", "node_type", "created_at"),
)
Index("applications_wallet", func.lower(applications.c.wallet_address))

application_events = Table(
    APPLICATION_EVENTS, metadata,
    Column("id", BigInteger, primary_key=True),
    Column("application", Uuid,
           ForeignKey(applications.c.id, name="application_events_application_fkey"),
           nullable=False),
    Column("action", Text, nullable=False),
    Column("from_status", Text),
    Column("to_status", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("note", Text),
    Column("at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Index("application_events_application", "application", "id"),
)

typeform_events = Table(
    TYPEFORM_EVENTS, metadata,
    Column("event_id", Text, primary_key=True),
    Column("response_token", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)

# The node network (migration 0006_network). Addresses are lowercase 0x hex, as in the mirror.
node_functions = Table(
    NODE_FUNCTIONS, metadata,
    Column("name", Text, primary_key=True),
    Column("ordinal", SmallInteger, nullable=False),
    Column("node_type", SmallInteger, nullable=False),
    Column("category", Text, nullable=False),
    Column("description", Text, nullable=False),
    CheckConstraint("node_type BETWEEN 1 AND 3", name="node_functions_node_type_check"),
)
"""noderr.catalogue.CATALOGUE, upserted at every API start (backend/network.py)."""

node_health = Table(
    NODE_HEALTH, metadata,
    Column("address", Text, primary_key=True),
    Column("token_id", UINT256, primary_key=True),
    Column("node_type", SmallInteger, nullable=False),
    Column("state", Text, nullable=False),
    Column("software_version", Text, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("last_heartbeat", DateTime(timezone=True), nullable=False,
           server_default=text("now()")),
    CheckConstraint("node_type BETWEEN 1 AND 3", name="node_health_node_type_check"),
    CheckConstraint("state IN ('active', 'suspended', 'stopping')",
                    name="node_health_state_check"),
)
"""A node's last heartbeat, one row per (address, license)."""

node_executions = Table(
    NODE_EXECUTIONS, metadata,
    Column("id", BigInteger, primary_key=True),
    Column("address", Text, nullable=False),
    Column("node_type", SmallInteger, nullable=False),
    Column("token_id", UINT256, nullable=False),
    Column("function", Text, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("duration_ms", Double, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("error", Text),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    CheckConstraint("node_type BETWEEN 1 AND 3", name="node_executions_node_type_check"),
    CheckConstraint("duration_ms >= 0", name="node_executions_duration_ms_check"),
    CheckConstraint("outcome IN ('ok', 'rejected', 'error')",
                    name="node_executions_outcome_check"),
    # GET /network/executions: newest first, unfiltered or by one filter (the others are
    # checked on the rows that index yields).
    Index("node_executions_by_time", "started_at", "id"),
    Index("node_executions_by_function", "function", "started_at", "id"),
    Index("node_executions_by_address", "address", "started_at", "id"),
    Index("node_executions_by_outcome", "outcome", "started_at", "id"),
)
"""Every execution of a catalogue function a licensed node reported."""

# Every change that can alter what a signed-in caller is allowed is announced on one channel,
# from the transaction that makes it (NOTIFY is delivered at commit): the per-process caller
# cache (backend/caller_cache.py) drops what it holds. Payloads: "mirror" (licenses or roles
# rewritten), "sessions" (a session revoked or deleted), "checkpoint:<chain id>:<block>".
AUTHZ_CHANNEL = "noderr_authz"

FUNCTIONS_AND_TRIGGERS = [
    f"""
    CREATE FUNCTION noderr_notify_authz() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('{AUTHZ_CHANNEL}', TG_ARGV[0]);
        RETURN NULL;
    END $$""",
    f"""
    CREATE FUNCTION noderr_notify_checkpoint() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            PERFORM pg_notify('{AUTHZ_CHANNEL}', 'checkpoint:' || OLD.chain_id || ':');
        ELSE
            PERFORM pg_notify('{AUTHZ_CHANNEL}',
                              'checkpoint:' || NEW.chain_id || ':' || NEW.block_number);
        END IF;
        RETURN NULL;
    END $$""",
    *(f"""
    CREATE TRIGGER {table}_notify_authz AFTER {events} ON {table}
        FOR EACH STATEMENT EXECUTE FUNCTION noderr_notify_authz('{payload}')"""
      for table, events, payload in [
          (LICENSES, "INSERT OR UPDATE OR DELETE OR TRUNCATE", "mirror"),
          (ROLE_MEMBERS, "INSERT OR UPDATE OR DELETE OR TRUNCATE", "mirror"),
          (SESSIONS, "UPDATE OR DELETE OR TRUNCATE", "sessions")]),
    f"""
    CREATE TRIGGER {INDEXER_CHECKPOINTS}_notify_authz
        AFTER INSERT OR UPDATE OR DELETE ON {INDEXER_CHECKPOINTS}
        FOR EACH ROW EXECUTE FUNCTION noderr_notify_checkpoint()""",
    f"""
    CREATE TRIGGER {INDEXER_CHECKPOINTS}_truncate_notify_authz
        AFTER TRUNCATE ON {INDEXER_CHECKPOINTS}
        FOR EACH STATEMENT EXECUTE FUNCTION noderr_notify_authz('mirror')""",
]
