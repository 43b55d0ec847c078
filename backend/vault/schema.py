"""The vault's tables, as the code expects them.

`vault_data_keys`: one data key per license token, random, wrapped by a master key version.
`vault_secrets`: every version of every secret, AES-256-GCM under the token's data key.
`vault_audit`: the hash-chained audit log; `vault_audit_head` holds its newest entry and is
the lock that serializes appends (one row, id 1, inserted by the migration as AUDIT_HEAD_ROW);
vault_audit_append_batch appends a group of entries under one lock and one head update.
A trigger makes the log append-only for every role but a superuser who disables it (the hash
chain is what detects that).

The migrations (noderr/migrations/versions/) build them; tests/migrations checks that the
migrated database equals these definitions (tables, constraints, indexes, and the functions
and triggers of FUNCTIONS_AND_TRIGGERS), so a change here needs a new revision there."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    text,
)

VAULT_DATA_KEYS = "vault_data_keys"
VAULT_SECRETS = "vault_secrets"
VAULT_AUDIT = "vault_audit"
VAULT_AUDIT_HEAD = "vault_audit_head"

metadata = MetaData()

vault_data_keys = Table(
    VAULT_DATA_KEYS, metadata,
    Column("id", BigInteger, primary_key=True),
    Column("chain_id", Integer, nullable=False),
    Column("contract_address", Text, nullable=False),
    Column("token_id", Numeric(78, 0), nullable=False),
    Column("owner", Text, nullable=False),
    Column("kek_version", Integer, CheckConstraint("kek_version > 0",
                                                   name="vault_data_keys_kek_version_check"),
           nullable=False),
    Column("wrapped_key", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("rewrapped_at", DateTime(timezone=True)),
    UniqueConstraint("chain_id", "contract_address", "token_id",
                     name="vault_data_keys_chain_id_contract_address_token_id_key"),
    Index("vault_data_keys_kek_version", "kek_version", "id"),
)

vault_secrets = Table(
    VAULT_SECRETS, metadata,
    Column("data_key_id", BigInteger,
           ForeignKey(vault_data_keys.c.id, ondelete="CASCADE",
                      name="vault_secrets_data_key_id_fkey"),
           nullable=False),
    Column("name", Text, nullable=False),
    Column("version", Integer, CheckConstraint("version > 0", name="vault_secrets_version_check"),
           nullable=False),
    Column("nonce", LargeBinary, nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    PrimaryKeyConstraint("data_key_id", "name", "version"),
)

vault_audit = Table(
    VAULT_AUDIT, metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", Text, nullable=False),
    Column("token_id", Numeric(78, 0)),
    Column("secret_name", Text),
    Column("action", Text, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("request_id", Text, nullable=False),
    Column("detail", Text, nullable=False, server_default=text("''")),
    Column("prev_hash", LargeBinary, nullable=False),
    Column("hash", LargeBinary, nullable=False),
    Index("vault_audit_token", "token_id", "seq"),
)

vault_audit_head = Table(
    VAULT_AUDIT_HEAD, metadata,
    Column("id", SmallInteger, CheckConstraint("id = 1", name="vault_audit_head_id_check"),
           primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", LargeBinary, nullable=False),
)

AUDIT_HEAD_ROW = ("INSERT INTO vault_audit_head (id, seq, hash)"
                  " VALUES (1, 0, decode(repeat('00', 32), 'hex'))")

FUNCTIONS_AND_TRIGGERS = [
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
    # The group commit's flush (backend/vault/audit.py:GroupCommit): a batch chained in
    # array order under one head lock, one head update; the last seq.
    """
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
