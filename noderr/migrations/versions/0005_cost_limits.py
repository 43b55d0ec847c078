"""Indexes for every filter of the public API, and the audit log's group commit.

GET /events filters by contract address, event name, token id, any argument's value (a GIN
index on `args`, queried with a strict jsonpath) and time; GET /licenses by status and node
type; GET /governance/proposals by state, newest first; GET /applications newest first by
node type. `vault_audit_append_batch` chains a group of audit entries under one lock of the
head row with one head update.

Revision ID: 0005_cost_limits
Revises: 0004_authz_notify
Create Date: 2026-11-30
"""

from alembic import op

revision = "0005_cost_limits"
down_revision = "0004_authz_notify"
branch_labels = None
depends_on = None

INDEXES = {
    "chain_events_by_contract_address":
        "chain_events (chain_id, contract_address, block_number)",
    "chain_events_by_event_name": "chain_events (chain_id, event_name, block_number)",
    "chain_events_by_token_id":
        "chain_events (chain_id, (coalesce(args ->> 'token_id', args ->> 'tokenId')),"
        " block_number)",
    "chain_events_by_timestamp": "chain_events (chain_id, block_timestamp)",
    "chain_events_args": "chain_events USING gin (args) WITH (fastupdate = off)",
    "licenses_by_status": "licenses (chain_id, contract_address, status, token_id)",
    "licenses_by_node_type": "licenses (chain_id, contract_address, node_type, token_id)",
    "proposals_by_created": "proposals (chain_id, created_block)",
    "proposals_by_state": "proposals (chain_id, state, created_block)",
    "applications_created_at": "applications (created_at, id)",
    "applications_node_type": "applications (node_type, created_at)",
}

APPEND_BATCH = """
    CREATE FUNCTION vault_audit_append_batch(p_actor text[], p_token_id numeric[],
                                             p_secret_name text[], p_action text[],
                                             p_outcome text[], p_request_id text[],
                                             p_detail text[]) RETURNS bigint
    LANGUAGE plpgsql AS $$
    DECLARE
        head_seq bigint;
        head_hash bytea;
        prev_hash bytea;
        moment timestamptz;
    BEGIN
        SELECT seq, hash INTO head_seq, head_hash FROM vault_audit_head WHERE id = 1
            FOR UPDATE;
        moment := date_trunc('microseconds', clock_timestamp());
        FOR i IN 1 .. coalesce(array_length(p_actor, 1), 0) LOOP
            head_seq := head_seq + 1;
            prev_hash := head_hash;
            head_hash := sha256(convert_to('noderr-vault-audit/v1'
                || vault_audit_field(head_seq::text)
                || vault_audit_field(to_char(moment AT TIME ZONE 'UTC',
                                             'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
                || vault_audit_field(p_actor[i]) || vault_audit_field(p_token_id[i]::text)
                || vault_audit_field(p_secret_name[i]) || vault_audit_field(p_action[i])
                || vault_audit_field(p_outcome[i]) || vault_audit_field(p_request_id[i])
                || vault_audit_field(p_detail[i]) || vault_audit_field(encode(prev_hash, 'hex')),
                'UTF8'));
            INSERT INTO vault_audit (seq, at, actor, token_id, secret_name, action, outcome,
                                     request_id, detail, prev_hash, hash)
                VALUES (head_seq, moment, p_actor[i], p_token_id[i], p_secret_name[i],
                        p_action[i], p_outcome[i], p_request_id[i], p_detail[i], prev_hash,
                        head_hash);
        END LOOP;
        UPDATE vault_audit_head SET seq = head_seq, hash = head_hash WHERE id = 1;
        RETURN head_seq;
    END $$"""


def upgrade() -> None:
    for name, target in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON {target}")
    op.execute(APPEND_BATCH)


def downgrade() -> None:
    op.execute("DROP FUNCTION vault_audit_append_batch(text[], numeric[], text[], text[], "
               "text[], text[], text[])")
    for name in reversed(INDEXES):
        op.execute(f"DROP INDEX {name}")
