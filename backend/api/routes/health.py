"""`/healthz` (the process answers) and `/readyz` (database, chain and indexer lag)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from backend.api.deps import BackendDep
from backend.readiness import readiness

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process serves requests."""
    return {"status": "ok"}


@router.get("/readyz", responses={
    200: {"description": "Ready: every check passes.", "content": {"application/json": {
        "schema": {"type": "object"}}}},
    503: {"description": "Not ready: the report names each failing check.",
          "content": {"application/json": {"schema": {"type": "object"}}}}})
async def readyz(backend: BackendDep) -> JSONResponse:
    """Readiness: the database answers, the chain answers, the mirror is within the lag
    limit. 503 with every failing check otherwise."""
    ready, report = await readiness(backend)
    return JSONResponse(report, status_code=200 if ready else 503)
