"""What a database holds of ours, read from PostgreSQL's catalog in its own normalized words
(format_type, pg_get_constraintdef, pg_get_indexdef, pg_get_triggerdef, pg_get_functiondef):
two databases built by different SQL with the same meaning read the same."""

from __future__ import annotations

import psycopg

VERSION_TABLE = "alembic_version"

QUERIES = {
    "columns": """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid)
          FROM pg_attribute a
          JOIN pg_class c ON c.oid = a.attrelid
          LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
           AND a.attnum > 0 AND NOT a.attisdropped AND c.relname <> %(version_table)s
         ORDER BY c.relname, a.attnum""",
    "constraints": """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
          FROM pg_constraint
         WHERE connamespace = 'public'::regnamespace
           AND conrelid::regclass::text <> %(version_table)s
         ORDER BY 1, 2""",
    "indexes": """
        SELECT indexname, indexdef FROM pg_indexes
         WHERE schemaname = 'public' AND tablename <> %(version_table)s ORDER BY 1""",
    "sequences": "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1",
    "triggers": """
        SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal
         ORDER BY 1""",
    "functions": """
        SELECT proname, pg_get_functiondef(oid) FROM pg_proc
         WHERE pronamespace = 'public'::regnamespace ORDER BY 1""",
}


def snapshot(url: str) -> dict[str, list[tuple]]:
    """Our tables' columns, constraints, indexes and sequences, and our triggers and functions
    (everything in the `public` schema but Alembic's version table)."""
    with psycopg.connect(url) as conn:
        return {kind: conn.execute(query, {"version_table": VERSION_TABLE}).fetchall()
                for kind, query in QUERIES.items()}


def is_empty(snap: dict[str, list[tuple]]) -> bool:
    return not any(snap.values())


def differences(expected: dict[str, list[tuple]], actual: dict[str, list[tuple]]) -> list[str]:
    """One line per catalog entry found in only one of the two snapshots."""
    lines = []
    for kind in QUERIES:
        want, have = set(expected[kind]), set(actual[kind])
        lines += [f"{kind}: missing {entry}" for entry in sorted(want - have, key=str)]
        lines += [f"{kind}: unexpected {entry}" for entry in sorted(have - want, key=str)]
    return lines
