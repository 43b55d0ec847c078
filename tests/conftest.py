"""The session fixtures every folder shares: one embedded PostgreSQL (each test its own
database in it) and the compiled contracts.

Registered here once and imported by no folder's conftest: pytest runs a session fixture once
per conftest that registers it, so the eight folders that imported `pg_server` started eight
servers (about 5 s each to start, 3 s each to stop at the end)."""

from tests.fixtures_chain import artifacts, pg_server  # noqa: F401
