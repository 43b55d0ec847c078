"""The caller cache: gated requests reuse the caller only until a NOTIFY announces a change to
licenses, roles, sessions or the checkpoint, and read the database while nobody listens."""

from __future__ import annotations

import asyncio
import time

import pytest

from backend.caller_cache import LISTENER_NAME, CallerCache
from tests.backend.helpers import ADMIN, bearer, sign_in, wait_listening
from tests.backend.siwe_helpers import KEYS

ORACLE = 1
OPERATOR = KEYS[1].address


@pytest.fixture
def operator(client):
    return bearer(sign_in(client, 1))


def callers(client) -> CallerCache:
    return client.app.state.backend.callers


def gate(client, headers) -> int:
    return client.get("/nodes/oracle/access", headers=headers).status_code


def wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def test_gate__repeated__served_from_cache(client, ops, operator):
    ops.mint(OPERATOR, ORACLE)
    ops.index()
    assert gate(client, operator) == 200
    hits = callers(client).hits
    assert [gate(client, operator) for _ in range(5)] == [200] * 5
    assert callers(client).hits == hits + 5


def test_gate__cached_then_revoked__403_once_indexed(client, ops, operator):
    token_id = ops.mint(OPERATOR, ORACLE)
    ops.index()
    assert gate(client, operator) == 200
    assert gate(client, operator) == 200
    ops.revoke(token_id)
    ops.index()
    assert gate(client, operator) == 403


def test_gate__cached_then_blocks_without_license_events__hit_at_new_block(client, ops,
                                                                          operator):
    ops.mint(OPERATOR, ORACLE)
    ops.index()
    assert gate(client, operator) == 200
    ops.mine(6)  # NODERR_MAX_LAG_BLOCKS is 5: the cached caller's block is too old
    response = client.get("/nodes/oracle/access", headers=operator)
    assert response.status_code == 503 and "6 blocks behind" in response.json()["detail"]
    indexed = ops.index()
    hits = callers(client).hits
    me = client.get("/auth/me", headers=operator).json()
    assert me["indexed_block"] == indexed
    assert callers(client).hits == hits + 1
    assert gate(client, operator) == 200


def test_admin__cached_then_role_revoked__403_once_indexed(client, ops):
    ops.index()
    admin = bearer(sign_in(client, 0))
    assert client.get("/applications", headers=admin).status_code == 200
    ops.revoke_role("MINTER_ROLE", ADMIN)
    ops.revoke_role("REVOKER_ROLE", ADMIN)
    ops.index()
    response = client.get("/applications", headers=admin)
    assert response.status_code == 403
    assert "holds none of MINTER_ROLE, REVOKER_ROLE" in response.json()["detail"]


def test_logout__cached_session__401_at_once(client, ops, operator):
    ops.mint(OPERATOR, ORACLE)
    ops.index()
    assert gate(client, operator) == 200
    assert client.post("/auth/logout", headers=operator).status_code == 204
    response = client.get("/nodes/oracle/access", headers=operator)
    assert response.status_code == 401
    assert response.json()["detail"] == "session unknown, expired or revoked: sign in again"


def test_session_revoked_by_another_process__401(client, ops, operator, db):
    ops.mint(OPERATOR, ORACLE)
    ops.index()
    assert gate(client, operator) == 200
    db.execute("UPDATE sessions SET revoked_at = now()")
    wait_until(lambda: gate(client, operator) == 401, timeout=2.0)


def test_projection_rewritten__cache_dropped(client, ops, operator, db):
    """A rebuild (`noderr index rebuild`) rewrites licenses without moving the checkpoint."""
    ops.mint(OPERATOR, ORACLE)
    ops.index()
    assert gate(client, operator) == 200
    generation = callers(client).generation
    db.execute("UPDATE licenses SET status = 'suspended'")
    wait_until(lambda: gate(client, operator) == 403, timeout=2.0)
    assert callers(client).generation != generation


def test_listener_lost__every_request_reads_database_until_back(client, ops, operator, db):
    token_id = ops.mint(OPERATOR, ORACLE)
    ops.index()
    assert gate(client, operator) == 200
    terminated = db.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE application_name = %s", (LISTENER_NAME,)).fetchall()
    assert terminated == [(True,)]
    wait_until(lambda: not callers(client).listening)
    assert client.get("/readyz").json()["caller_cache"].startswith("off: not listening")
    misses = callers(client).misses
    assert gate(client, operator) == 200
    assert callers(client).misses == misses + 1
    ops.revoke(token_id)
    ops.index()
    assert gate(client, operator) == 403
    wait_until(lambda: callers(client).listening)
    assert client.get("/readyz").json()["caller_cache"] == "on"
    hits = callers(client).hits
    assert [gate(client, operator) for _ in range(2)] == [403, 403]
    assert callers(client).hits >= hits + 1


def test_cache_off__one_query_per_request(make_client, settings, ops):
    client = make_client(settings.model_copy(update={"caller_cache": False}))
    ops.mint(OPERATOR, ORACLE)
    ops.index()
    headers = bearer(sign_in(client, 1))
    assert [gate(client, headers) for _ in range(3)] == [200] * 3
    assert not callers(client).listening
    assert callers(client).hits == 0
    assert client.get("/readyz").json()["caller_cache"] == "disabled (NODERR_CALLER_CACHE=false)"


def test_cache__entry_expires_with_its_session(database_url, deployment):
    from backend.caller import Caller

    async def scenario() -> list[bool]:
        cache = CallerCache(database_url, deployment.chain_id)
        await cache.start()
        try:
            await wait_listening(cache)
            caller = Caller(OPERATOR, b"t" * 32, 1)
            cache.put(b"live", caller, time.time() + 60, cache.generation)
            cache.put(b"expired", caller, time.time() - 1, cache.generation)
            cache.put(b"stale", caller, time.time() + 60, (cache.generation or 0) - 1)
            return [cache.get(key) is not None for key in (b"live", b"expired", b"stale")]
        finally:
            await cache.stop()

    assert asyncio.run(scenario()) == [True, False, False]
