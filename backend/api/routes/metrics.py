"""`GET /metrics`: the API's Prometheus metrics (backend/api/metrics.py), rate-limited per client
as the other public reads (NODERR_RATE_LIMIT_PUBLIC)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from backend.api import metrics
from backend.api.deps import BackendDep
from backend.api.rate_limits import PUBLIC, rate_limited

router = APIRouter(tags=["health"], dependencies=[Depends(rate_limited(PUBLIC))])


@router.get("/metrics", response_class=Response, responses={200: {
    "description": "Prometheus text exposition format.",
    "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}})
async def prometheus_metrics(backend: BackendDep) -> Response:
    """Request counts and latencies by route and status, the halt and the nodes by status as
    the mirror shows them now."""
    await metrics.refresh_mirror_gauges(backend)
    return Response(generate_latest(metrics.registry()), media_type=CONTENT_TYPE_LATEST)
