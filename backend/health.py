"""`/healthz` (the process answers) and `/readyz` (database, chain and indexer lag)."""

from __future__ import annotations

from typing import Any

import psycopg
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from backend.chain import ChainUnavailable
from backend.context import Backend, get_backend

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process serves requests."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(backend: Backend = Depends(get_backend)) -> JSONResponse:
    """Readiness: the database answers, the chain answers, the mirror is within the lag
    limit. 503 with every failing check otherwise."""
    checks: dict[str, Any] = {}
    try:
        row = await backend.db.fetch_one(
            "SELECT block_number FROM indexer_checkpoints WHERE chain_id = %s",
            (backend.chain_id,))
        checks["database"] = "ok"
    except psycopg.Error as error:
        row, checks["database"] = None, f"unreachable: {type(error).__name__}"
    try:
        head = await backend.chain.head()
        checks["rpc"] = "ok"
    except ChainUnavailable as error:
        head, checks["rpc"] = None, str(error)
    checks["indexer"] = indexer_check(row, head, backend.settings.max_lag_blocks)
    ready = all(value == "ok" for value in checks.values())
    body = {"status": "ready" if ready else "not ready", "checks": checks, "head_block": head,
            "indexed_block": row["block_number"] if row else None,
            "caller_cache": caller_cache_state(backend)}
    return JSONResponse(body, status_code=200 if ready else 503)


def caller_cache_state(backend: Backend) -> str:
    """Informational, never a readiness failure: without the cache every request reads the
    database, which is slower, not wrong."""
    if not backend.settings.caller_cache:
        return "disabled (NODERR_CALLER_CACHE=false)"
    if backend.callers.listening:
        return "on"
    return "off: not listening for changes, every request reads the database"


def indexer_check(row: dict[str, Any] | None, head: int | None, max_lag: int) -> str:
    if row is None:
        return "no checkpoint: the indexer has not run"
    if head is None:
        return "unknown lag: the chain does not answer"
    lag = head - row["block_number"]
    return "ok" if lag <= max_lag else f"{lag} blocks behind (limit {max_lag})"
