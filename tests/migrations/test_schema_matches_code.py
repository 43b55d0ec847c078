"""The schema after `upgrade head` is the one the code describes (indexer/schema.py,
backend/schema.py, backend/vault/schema.py): editing a schema module without a new revision
fails here.

Two checks: Alembic's autogenerate comparison (what `alembic check` runs: tables, columns,
types, nullability, server defaults, indexes, unique and foreign keys), and the catalog of a
database built straight from the schema modules against the migrated one, which also covers
what autogenerate does not see: check constraints, functions and triggers."""

from __future__ import annotations

import psycopg
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, create_engine, pool

from backend import schema as backend_schema
from backend.vault import schema as vault_schema
from indexer import schema as indexer_schema
from noderr.db import sqlalchemy_url
from noderr.migrate import upgrade
from tests.migrations.catalog import differences, snapshot

METADATA: list[MetaData] = [indexer_schema.metadata, backend_schema.metadata,
                            vault_schema.metadata]


def _engine(url: str):
    return create_engine(sqlalchemy_url(url), poolclass=pool.NullPool)


def build_from_code(url: str) -> None:
    """Create everything the schema modules describe, without any migration."""
    engine = _engine(url)
    with engine.begin() as conn:
        for metadata in METADATA:
            metadata.create_all(conn)
    engine.dispose()
    with psycopg.connect(url) as conn:
        for statement in [*vault_schema.FUNCTIONS_AND_TRIGGERS,
                          *backend_schema.FUNCTIONS_AND_TRIGGERS, vault_schema.AUDIT_HEAD_ROW]:
            conn.execute(statement)


def test_upgrade_head__autogenerate_finds_no_difference(empty_database):
    url = empty_database()
    upgrade(url)
    engine = _engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True})
        differences = compare_metadata(context, METADATA)
    engine.dispose()
    assert not differences, "a schema module differs from the migrations (write a revision):\n" + (
        "\n".join(map(str, differences)))


def test_upgrade_head__catalog_equals_the_schema_built_from_code(empty_database):
    migrated, built = empty_database(), empty_database()
    upgrade(migrated)
    build_from_code(built)
    expected, actual = snapshot(built), snapshot(migrated)
    assert expected == actual, "the migrated database lacks what the code describes, or has " \
        "more (write a revision):\n" + "\n".join(differences(expected, actual))


def test_upgrade_head__vault_audit_head_row_is_the_one_the_code_describes(empty_database):
    migrated, built = empty_database(), empty_database()
    upgrade(migrated)
    build_from_code(built)
    rows = "SELECT * FROM vault_audit_head"
    with psycopg.connect(migrated) as a, psycopg.connect(built) as b:
        assert a.execute(rows).fetchall() == b.execute(rows).fetchall()
