"""Alembic from Python: `noderr db upgrade` and the schema check every service runs first."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from noderr.db import DatabaseError, connect

# Inside the package, so that an installed noderr (not only a checkout) can migrate.
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("")).get_current_head()
    if head is None:  # pragma: no cover - the repository ships revisions
        raise DatabaseError("no migrations found")
    return head


def current_revision(url: str) -> str | None:
    with connect(url) as conn:
        exists = conn.execute("SELECT to_regclass('alembic_version')").fetchone()
        if exists is None or exists[0] is None:
            return None
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return row[0] if row else None


def require_current(url: str) -> None:
    """Raise a clear error unless the schema is at the newest revision."""
    current, head = current_revision(url), head_revision()
    if current != head:
        raise DatabaseError(f"database schema is at {current or 'nothing'}, this code needs "
                            f"{head}: run `noderr db upgrade`")
