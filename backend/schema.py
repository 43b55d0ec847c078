"""The backend's own tables, as the code expects them: SIWE nonces, sessions, applications and
their history, Typeform events, the node network's function catalogue, node health and
execution logs, the validators' consensus rounds and messages, the paper trading desk's
records; and the triggers that announce authorization changes.

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
    ForeignKeyConstraint,
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
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from indexer.schema import INDEXER_CHECKPOINTS, LICENSES, ROLE_MEMBERS, UINT256
from noderr.execution_results import MAX_STORED_BYTES

SIWE_NONCES = "siwe_nonces"
SESSIONS = "sessions"
APPLICATIONS = "applications"
APPLICATION_EVENTS = "application_events"
TYPEFORM_EVENTS = "typeform_events"
NODE_FUNCTIONS = "node_functions"
NODE_HEALTH = "node_health"
NODE_EXECUTIONS = "node_executions"
TRADING_ORDERS = "trading_orders"
TRADING_FILLS = "trading_fills"
TRADING_REJECTIONS = "trading_rejections"
TRADING_EQUITY = "trading_equity"
TRADING_POSITIONS = "trading_positions"
CONSENSUS_ROUNDS = "consensus_rounds"
CONSENSUS_MESSAGES = "consensus_messages"

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
    Column("result", JSONB),
    CheckConstraint("node_type BETWEEN 1 AND 3", name="node_executions_node_type_check"),
    CheckConstraint("duration_ms >= 0", name="node_executions_duration_ms_check"),
    CheckConstraint("outcome IN ('ok', 'rejected', 'error')",
                    name="node_executions_outcome_check"),
    CheckConstraint("jsonb_typeof(result) = 'object' AND octet_length(result::text) <= "
                    f"{MAX_STORED_BYTES}", name="node_executions_result_check"),
    # GET /network/executions: newest first, unfiltered or by one filter (the others are
    # checked on the rows that index yields).
    Index("node_executions_by_time", "started_at", "id"),
    Index("node_executions_by_function", "function", "started_at", "id"),
    Index("node_executions_by_address", "address", "started_at", "id"),
    Index("node_executions_by_outcome", "outcome", "started_at", "id"),
)
"""Every execution of a catalogue function a licensed node reported."""

# The paper trading desk (migration 0007_trading): `desk` is the submitting node's address
# (lowercase 0x hex), `run_id` the desk's name for its run. Amounts are numeric, unscaled.
SIDES_CHECK = "side IN ('buy', 'sell')"
ORDER_KEY = ("desk", "run_id", "order_id")

trading_orders = Table(
    TRADING_ORDERS, metadata,
    Column("id", BigInteger, primary_key=True),
    Column("desk", Text, nullable=False),
    Column("run_id", Text, nullable=False),
    Column("order_id", Text, nullable=False),
    Column("instrument", Text, nullable=False),
    Column("side", Text, nullable=False),
    Column("order_type", Text, nullable=False),
    Column("time_in_force", Text, nullable=False),
    Column("quantity", Numeric, nullable=False),
    Column("limit_price", Numeric),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("filled_quantity", Numeric, nullable=False, server_default=text("0")),
    Column("status", Text, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    UniqueConstraint(*ORDER_KEY, name="trading_orders_desk_run_id_order_id_key"),
    CheckConstraint(SIDES_CHECK, name="trading_orders_side_check"),
    CheckConstraint("order_type IN ('market', 'limit')", name="trading_orders_order_type_check"),
    CheckConstraint("time_in_force IN ('IOC', 'GTC')", name="trading_orders_time_in_force_check"),
    CheckConstraint("quantity > 0", name="trading_orders_quantity_check"),
    CheckConstraint("limit_price > 0", name="trading_orders_limit_price_check"),
    CheckConstraint("status IN ('sent', 'partially_filled', 'filled', 'rejected')",
                    name="trading_orders_status_check"),
    CheckConstraint("filled_quantity >= 0 AND filled_quantity <= quantity",
                    name="trading_orders_filled_quantity_check"),
    # GET /trading/orders: newest first, unfiltered or by one filter.
    Index("trading_orders_by_time", "created_at", "id"),
    Index("trading_orders_by_desk", "desk", "created_at", "id"),
    Index("trading_orders_by_instrument", "instrument", "created_at", "id"),
    Index("trading_orders_by_status", "status", "created_at", "id"),
)
"""Every order of a desk, sent to its venue or refused before it (status `rejected`);
`filled_quantity` and the other statuses follow its fills."""

trading_fills = Table(
    TRADING_FILLS, metadata,
    Column("id", BigInteger, primary_key=True),
    Column("desk", Text, nullable=False),
    Column("run_id", Text, nullable=False),
    Column("order_id", Text, nullable=False),
    Column("instrument", Text, nullable=False),
    Column("side", Text, nullable=False),
    Column("quantity", Numeric, nullable=False),
    Column("price", Numeric, nullable=False),
    Column("fee", Numeric, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    ForeignKeyConstraint(ORDER_KEY, [f"{TRADING_ORDERS}.{name}" for name in ORDER_KEY],
                         name="trading_fills_order_fkey"),
    CheckConstraint(SIDES_CHECK, name="trading_fills_side_check"),
    CheckConstraint("quantity > 0", name="trading_fills_quantity_check"),
    CheckConstraint("price > 0", name="trading_fills_price_check"),
    CheckConstraint("fee >= 0", name="trading_fills_fee_check"),
    Index("trading_fills_by_order", *ORDER_KEY),
)

trading_rejections = Table(
    TRADING_REJECTIONS, metadata,
    Column("id", BigInteger, primary_key=True),
    Column("desk", Text, nullable=False),
    Column("run_id", Text, nullable=False),
    Column("order_id", Text, nullable=False),
    Column("check_name", Text, nullable=False),
    Column("check_value", Double),
    Column("check_limit", Double),
    Column("reason", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    UniqueConstraint(*ORDER_KEY, name="trading_rejections_desk_run_id_order_id_key"),
    ForeignKeyConstraint(ORDER_KEY, [f"{TRADING_ORDERS}.{name}" for name in ORDER_KEY],
                         name="trading_rejections_order_fkey"),
)
"""Why an order was refused before the venue: the failing check and the numbers it compared."""

trading_equity = Table(
    TRADING_EQUITY, metadata,
    Column("id", BigInteger, primary_key=True),
    Column("desk", Text, nullable=False),
    Column("run_id", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    *(Column(name, Numeric, nullable=False) for name in
      ("cash", "market_value", "equity", "realized_pnl", "unrealized_pnl", "fees")),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    UniqueConstraint("desk", "run_id", "at", name="trading_equity_desk_run_id_at_key"),
    CheckConstraint("fees >= 0", name="trading_equity_fees_check"),
    Index("trading_equity_by_time", "at", "id"),
    Index("trading_equity_by_desk", "desk", "at", "id"),
)
"""The equity curve: one point per desk step."""

trading_positions = Table(
    TRADING_POSITIONS, metadata,
    Column("desk", Text, primary_key=True),
    Column("run_id", Text, primary_key=True),
    Column("instrument", Text, primary_key=True),
    Column("quantity", Numeric, nullable=False),
    Column("cost", Numeric, nullable=False),
    Column("realized_pnl", Numeric, nullable=False),
    Column("fills", BigInteger, nullable=False),
    Column("last_fill_at", DateTime(timezone=True), nullable=False),
)
"""A run's position per instrument, as its stored fills make it (average cost)."""

# The validators' consensus rounds (migration 0008_consensus_rounds): one row per (feed, round,
# reporting validator); addresses lowercase 0x hex.
consensus_rounds = Table(
    CONSENSUS_ROUNDS, metadata,
    Column("id", BigInteger, primary_key=True),
    Column("feed", Text, nullable=False),
    Column("feed_address", Text, nullable=False),
    Column("round", BigInteger, nullable=False),
    Column("reporter", Text, nullable=False),
    Column("view", BigInteger),
    Column("leader", Text),
    Column("answer", Numeric(78, 0), nullable=False),
    Column("observed_at", BigInteger, nullable=False),
    Column("signers", ARRAY(Text), nullable=False),
    Column("status", Text, nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    UniqueConstraint("feed", "round", "reporter",
                     name="consensus_rounds_feed_round_reporter_key"),
    CheckConstraint("round > 0", name="consensus_rounds_round_check"),
    CheckConstraint("view >= 0", name="consensus_rounds_view_check"),
    CheckConstraint("observed_at >= 0", name="consensus_rounds_observed_at_check"),
    CheckConstraint("status IN ('agreed', 'transmitted', 'failed')",
                    name="consensus_rounds_status_check"),
    # GET /network/rounds: newest first, unfiltered or by one filter; a round range of a feed
    # uses the unique key.
    Index("consensus_rounds_by_time", "recorded_at", "id"),
    Index("consensus_rounds_by_feed", "feed", "recorded_at", "id"),
    Index("consensus_rounds_by_leader", "leader", "recorded_at", "id"),
    Index("consensus_rounds_by_status", "status", "recorded_at", "id"),
)
"""What each validator says it decided for a round of a feed, and what became of it."""

# The validators' consensus messages (migration 0009_consensus_messages): one row per (reporting
# validator, feed, signed digest); addresses lowercase 0x hex.
consensus_messages = Table(
    CONSENSUS_MESSAGES, metadata,
    Column("id", BigInteger, primary_key=True),
    Column("feed", Text, nullable=False),
    Column("round", BigInteger, nullable=False),
    Column("view", BigInteger),
    Column("phase", Text, nullable=False),
    Column("sender", Text, nullable=False),
    Column("digest", Text),
    Column("signed_digest", LargeBinary, nullable=False),
    Column("signature", LargeBinary, nullable=False),
    Column("text", Text, nullable=False),
    Column("reporter", Text, nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    UniqueConstraint("reporter", "feed", "signed_digest",
                     name="consensus_messages_reporter_feed_signed_digest_key"),
    CheckConstraint("round > 0", name="consensus_messages_round_check"),
    CheckConstraint("view >= 0", name="consensus_messages_view_check"),
    CheckConstraint("phase IN ('pre_prepare', 'prepare', 'commit', 'view_change', 'new_view', "
                    "'decided')", name="consensus_messages_phase_check"),
    # GET /network/rounds/{feed}/{round}/messages: newest first; the view changes of the rows
    # of GET /network/rounds.
    Index("consensus_messages_by_round", "feed", "round", "recorded_at", "id"),
    # Intake's bound per (reporter, feed, round); retention's oldest-first prune (0010).
    Index("consensus_messages_by_reporter_round", "reporter", "feed", "round"),
    Index("consensus_messages_by_recorded_at", "recorded_at"),
)
"""Every consensus message a validator signed or received, as it reports it; checked against
its author's signature before it is stored."""

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
