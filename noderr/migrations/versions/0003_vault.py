"""Vault tables: wrapped data keys per license, secret versions, hash-chained audit log.

Revision ID: 0003_vault
Revises: 0002_backend
Create Date: 2026-05-21
"""

from alembic import op

revision = "0003_vault"
down_revision = "0002_backend"
branch_labels = None
depends_on = None

UPGRADE = [
    """
    CREATE TABLE vault_data_keys (
        id               bigserial    PRIMARY KEY,
        chain_id         integer      NOT NULL,
        contract_address text         NOT NULL,
        token_id         numeric(78, 0) NOT NULL,
        owner            text         NOT NULL,
        kek_version      integer      NOT NULL CHECK (kek_version > 0),
        wrapped_key      bytea        NOT NULL,
        created_at       timestamptz  NOT NULL DEFAULT now(),
        rewrapped_at     timestamptz,
        UNIQUE (chain_id, contract_address, token_id)
    )""",
    "CREATE INDEX vault_data_keys_kek_version ON vault_data_keys (kek_version, id)",
    """
    CREATE TABLE vault_secrets (
        data_key_id bigint      NOT NULL REFERENCES vault_data_keys (id) ON DELETE CASCADE,
        name        text        NOT NULL,
        version     integer     NOT NULL CHECK (version > 0),
        nonce       bytea       NOT NULL,
        ciphertext  bytea       NOT NULL,
        created_by  text        NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (data_key_id, name, version)
    )""",
    """
    CREATE TABLE vault_audit (
        seq         bigint      PRIMARY KEY,
        at          timestamptz NOT NULL,
        actor       text        NOT NULL,
        token_id    numeric(78, 0),
        secret_name text,
        action      text        NOT NULL,
        outcome     text        NOT NULL,
        request_id  text        NOT NULL,
        detail      text        NOT NULL DEFAULT '',
        prev_hash   bytea       NOT NULL,
        hash        bytea       NOT NULL
    )""",
    "CREATE INDEX vault_audit_token ON vault_audit (token_id, seq)",
    """
    CREATE TABLE vault_audit_head (
        id   smallint PRIMARY KEY CHECK (id = 1),
        seq  bigint   NOT NULL,
        hash bytea    NOT NULL
    )""",
    "INSERT INTO vault_audit_head (id, seq, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'))",
    """
    CREATE FUNCTION vault_audit_field(value text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
        SELECT CASE WHEN value IS NULL THEN '~' ELSE octet_length(value)::text || ':' || value
        END
    $$""",
    # One statement appends an entry: the head row stays locked only inside the server
    # (plus the commit), not across client round trips. backend/vault/audit.py:entry_hash
    # computes the same preimage; `noderr vault verify-audit` checks it in Python.
    """
    CREATE FUNCTION vault_audit_append(p_actor text, p_token_id numeric, p_secret_name text,
                                       p_action text, p_outcome text, p_request_id text,
                                       p_detail text) RETURNS bigint LANGUAGE plpgsql AS $$
    DECLARE
        head_seq bigint;
        head_hash bytea;
        moment timestamptz := date_trunc('microseconds', clock_timestamp());
        digest bytea;
    BEGIN
        SELECT seq, hash INTO head_seq, head_hash FROM vault_audit_head WHERE id = 1
            FOR UPDATE;
        head_seq := head_seq + 1;
        digest := sha256(convert_to('noderr-vault-audit/v1'
            || vault_audit_field(head_seq::text)
            || vault_audit_field(to_char(moment AT TIME ZONE 'UTC',
                                         'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
            || vault_audit_field(p_actor) || vault_audit_field(p_token_id::text)
            || vault_audit_field(p_secret_name) || vault_audit_field(p_action)
            || vault_audit_field(p_outcome) || vault_audit_field(p_request_id)
            || vault_audit_field(p_detail) || vault_audit_field(encode(head_hash, 'hex')),
            'UTF8'));
        INSERT INTO vault_audit (seq, at, actor, token_id, secret_name, action, outcome,
                                 request_id, detail, prev_hash, hash)
            VALUES (head_seq, moment, p_actor, p_token_id, p_secret_name, p_action,
                    p_outcome, p_request_id, p_detail, head_hash, digest);
        UPDATE vault_audit_head SET seq = head_seq, hash = digest WHERE id = 1;
        RETURN head_seq;
    END $$""",
    """
    CREATE FUNCTION vault_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'vault_audit is append-only';
    END $$""",
    """
    CREATE TRIGGER vault_audit_append_only BEFORE UPDATE OR DELETE ON vault_audit
        FOR EACH ROW EXECUTE FUNCTION vault_audit_append_only()""",
    """
    CREATE TRIGGER vault_audit_no_truncate BEFORE TRUNCATE ON vault_audit
        FOR EACH STATEMENT EXECUTE FUNCTION vault_audit_append_only()""",
]

DOWNGRADE = [
    "DROP TABLE vault_audit_head",
    "DROP TABLE vault_audit",
    "DROP FUNCTION vault_audit_append_only",
    "DROP FUNCTION vault_audit_append",
    "DROP FUNCTION vault_audit_field",
    "DROP TABLE vault_secrets",
    "DROP TABLE vault_data_keys",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
