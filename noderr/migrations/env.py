"""Alembic environment: plain SQL revisions, URL from noderr.db (never from alembic.ini)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from noderr.db import database_url, sqlalchemy_url

config = context.config


def run_migrations_online() -> None:
    url = config.attributes.get("database_url") or database_url()
    engine = create_engine(sqlalchemy_url(url), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: run `noderr db upgrade`")
run_migrations_online()
