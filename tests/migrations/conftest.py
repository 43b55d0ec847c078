"""Empty databases in the session's embedded PostgreSQL (the shared fixtures hand out
databases already migrated to head; these tests need them bare)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest


@pytest.fixture
def empty_database(pg_server: str) -> Iterator[Callable[[], str]]:
    """A factory of new, empty databases: each call returns the URL of one."""
    created: list[str] = []

    def make() -> str:
        name = f"m_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        created.append(name)
        return pg_server.replace("/postgres?", f"/{name}?", 1)

    yield make
    with psycopg.connect(pg_server, autocommit=True) as conn:
        for name in created:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
