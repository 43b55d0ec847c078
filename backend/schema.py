"""The backend's own tables. The Alembic revision migrations/versions/*_backend_*.py applies
UPGRADE / DOWNGRADE, *_authz_notify.py NOTIFY_UPGRADE / NOTIFY_DOWNGRADE; the indexer's tables
are read, never written, by the backend (it only adds triggers that announce their changes)."""

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

# Every change that can alter what a signed-in caller is allowed is announced on one channel,
# from the transaction that makes it (NOTIFY is delivered at commit): the per-process caller
# cache (backend/caller_cache.py) drops what it holds. Payloads: "mirror" (licenses or roles
# rewritten), "sessions" (a session revoked or deleted), "checkpoint:<chain id>:<block>".
AUTHZ_CHANNEL = "noderr_authz"

NOTIFY_UPGRADE = [
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
          ("licenses", "INSERT OR UPDATE OR DELETE OR TRUNCATE", "mirror"),
          ("role_members", "INSERT OR UPDATE OR DELETE OR TRUNCATE", "mirror"),
          ("sessions", "UPDATE OR DELETE OR TRUNCATE", "sessions")]),
    """
    CREATE TRIGGER indexer_checkpoints_notify_authz
        AFTER INSERT OR UPDATE OR DELETE ON indexer_checkpoints
        FOR EACH ROW EXECUTE FUNCTION noderr_notify_checkpoint()""",
    """
    CREATE TRIGGER indexer_checkpoints_truncate_notify_authz AFTER TRUNCATE ON indexer_checkpoints
        FOR EACH STATEMENT EXECUTE FUNCTION noderr_notify_authz('mirror')""",
]

NOTIFY_DOWNGRADE = [
    "DROP TRIGGER indexer_checkpoints_truncate_notify_authz ON indexer_checkpoints",
    "DROP TRIGGER indexer_checkpoints_notify_authz ON indexer_checkpoints",
    "DROP TRIGGER sessions_notify_authz ON sessions",
    "DROP TRIGGER role_members_notify_authz ON role_members",
    "DROP TRIGGER licenses_notify_authz ON licenses",
    "DROP FUNCTION noderr_notify_checkpoint()",
    "DROP FUNCTION noderr_notify_authz()",
]
