"""NOTIFY triggers for the API's caller cache: licenses, roles, sessions, the checkpoint.

Every change to these is announced on the channel `noderr_authz`.

Revision ID: 0004_authz_notify
Revises: 0003_vault
Create Date: 2026-11-26
"""

from alembic import op

revision = "0004_authz_notify"
down_revision = "0003_vault"
branch_labels = None
depends_on = None

UPGRADE = [
    """
    CREATE FUNCTION noderr_notify_authz() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('noderr_authz', TG_ARGV[0]);
        RETURN NULL;
    END $$""",
    """
    CREATE FUNCTION noderr_notify_checkpoint() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            PERFORM pg_notify('noderr_authz', 'checkpoint:' || OLD.chain_id || ':');
        ELSE
            PERFORM pg_notify('noderr_authz',
                              'checkpoint:' || NEW.chain_id || ':' || NEW.block_number);
        END IF;
        RETURN NULL;
    END $$""",
    """
    CREATE TRIGGER licenses_notify_authz AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON licenses
        FOR EACH STATEMENT EXECUTE FUNCTION noderr_notify_authz('mirror')""",
    """
    CREATE TRIGGER role_members_notify_authz
        AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON role_members
        FOR EACH STATEMENT EXECUTE FUNCTION noderr_notify_authz('mirror')""",
    """
    CREATE TRIGGER sessions_notify_authz AFTER UPDATE OR DELETE OR TRUNCATE ON sessions
        FOR EACH STATEMENT EXECUTE FUNCTION noderr_notify_authz('sessions')""",
    """
    CREATE TRIGGER indexer_checkpoints_notify_authz
        AFTER INSERT OR UPDATE OR DELETE ON indexer_checkpoints
        FOR EACH ROW EXECUTE FUNCTION noderr_notify_checkpoint()""",
    """
    CREATE TRIGGER indexer_checkpoints_truncate_notify_authz AFTER TRUNCATE ON indexer_checkpoints
        FOR EACH STATEMENT EXECUTE FUNCTION noderr_notify_authz('mirror')""",
]

DOWNGRADE = [
    "DROP TRIGGER indexer_checkpoints_truncate_notify_authz ON indexer_checkpoints",
    "DROP TRIGGER indexer_checkpoints_notify_authz ON indexer_checkpoints",
    "DROP TRIGGER sessions_notify_authz ON sessions",
    "DROP TRIGGER role_members_notify_authz ON role_members",
    "DROP TRIGGER licenses_notify_authz ON licenses",
    "DROP FUNCTION noderr_notify_checkpoint()",
    "DROP FUNCTION noderr_notify_authz()",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
