"""Whether this API process can serve: the database and the chain answer, and the mirror is
within the lag limit. The caller cache's state is reported, never a reason to be unready:
without it every request reads the database, which is slower, not wrong."""

from __future__ import annotations

from typing import Any

import psycopg

from backend import mirror
from backend.chain_client import ChainUnavailable
from backend.context import Backend


async def readiness(backend: Backend) -> tuple[bool, dict[str, Any]]:
    """(ready, the report): every check is "ok" or says what fails."""
    checks: dict[str, Any] = {}
    try:
        async with backend.db.connection() as conn:
            indexed = await mirror.indexed_block(conn, backend.chain_id)
        checks["database"] = "ok"
    except psycopg.Error as error:
        indexed, checks["database"] = None, f"unreachable: {type(error).__name__}"
    try:
        head = await backend.chain.head()
        checks["rpc"] = "ok"
    except ChainUnavailable as error:
        head, checks["rpc"] = None, str(error)
    checks["indexer"] = indexer_check(indexed, head, backend.max_lag_blocks)
    ready = all(value == "ok" for value in checks.values())
    return ready, {"status": "ready" if ready else "not ready", "checks": checks,
                   "head_block": head, "indexed_block": indexed,
                   "caller_cache": caller_cache_state(backend)}


def caller_cache_state(backend: Backend) -> str:
    if not backend.settings.caller_cache:
        return "disabled (NODERR_CALLER_CACHE=false)"
    if backend.callers.listening:
        return "on"
    return "off: not listening for changes, every request reads the database"


def indexer_check(indexed: int | None, head: int | None, max_lag: int) -> str:
    if indexed is None:
        return "no checkpoint: the indexer has not run"
    if head is None:
        return "unknown lag: the chain does not answer"
    lag = head - indexed
    return "ok" if lag <= max_lag else f"{lag} blocks behind (limit {max_lag})"
