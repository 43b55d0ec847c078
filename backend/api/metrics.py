"""What the API tells Prometheus (`GET /metrics`): each request by route template, method,
status and whether the route is gated (it needs a session, so it is decided from the mirror
and answers 503 while the mirror lags), with its latency; and, read from the database at each
scrape, the emergency halt and the nodes by status as `GET /network/guard` and
`GET /network/nodes` answer them; and the license watches waiting now (defined beside their
limit, backend/caller_cache.py). The alerts on these are in ops/prometheus/alerts.yml.

`noderr api --workers N` gives its workers a PROMETHEUS_MULTIPROC_DIR: a scrape reaches one
worker and answers with the sum of all of them (prometheus_client's multiprocess mode)."""

from __future__ import annotations

import functools
import os
import time
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend import network, trading
from backend.context import Backend
from backend.errors import NotFound
from noderr.domain import NODE_TYPE_LABELS

REQUESTS = Counter("noderr_api_requests", "Requests answered, by route template, method, "
                   "status and gated (the route needs a session).",
                   ["route", "method", "status", "gated"])
LATENCY = Histogram("noderr_api_request_duration_seconds", "Seconds from request to the end "
                    "of the answer, by route template and gated.", ["route", "gated"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 30.0))
HALTED = Gauge("noderr_trading_halted", "1 while NodeGuard is halted at the indexed block "
               "(GET /network/guard), else 0.", multiprocess_mode="mostrecent")
NODES = Gauge("noderr_network_nodes", "Nodes that sent a heartbeat, by type and status "
              "(GET /network/nodes: stale is silent past NODERR_NODE_STALE_AFTER).",
              ["node_type", "status"], multiprocess_mode="mostrecent")
NODE_STATUSES = ("active", "suspended", "stale", "stopped")
"""Every status GET /network/nodes answers."""
UNMATCHED = "unmatched"
"""The route label of a request no route matched (its path would be unbounded)."""


def gated(route: BaseRoute | None) -> bool:
    """The route needs a session: it declares the session security (openapi.signed_in)."""
    return bool((getattr(route, "openapi_extra", None) or {}).get("security"))


class RequestMetrics:
    """Counts and times every HTTP request, outermost, so the edge's refusals count too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            count, latency = series(getattr(route, "path", UNMATCHED), scope["method"], status,
                                    gated(route))
            count.inc()
            latency.observe(time.perf_counter() - started)


@functools.lru_cache(maxsize=4096)
def series(route: str, method: str, status: int, is_gated: bool) -> tuple[Any, Any]:
    """The request's counter and histogram children, looked up once: `labels()` checks and
    locks on every call, two thirds of the middleware's cost per request."""
    gate = "true" if is_gated else "false"
    return REQUESTS.labels(route, method, str(status), gate), LATENCY.labels(route, gate)


async def refresh_mirror_gauges(backend: Backend) -> None:
    """Set the halt and node gauges from the mirror as it is now. Every (type, status) pair
    is set, to 0 when no node has it, so a worker's older value never outlives the state."""
    try:
        HALTED.set(1 if (await trading.guard(backend))["halted"] else 0)
    except NotFound:
        HALTED.set(0)
    counts = {(label, status): 0 for label in NODE_TYPE_LABELS.values()
              for status in NODE_STATUSES}
    for node in await network.nodes(backend):
        key = (node["node_type_name"], node["status"])
        counts[key] = counts.get(key, 0) + 1
    for (label, status), count in counts.items():
        NODES.labels(label, status).set(count)


def registry() -> CollectorRegistry:
    """This process's metrics, or every worker's in multiprocess mode."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    combined = CollectorRegistry()
    MultiProcessCollector(combined)
    return combined
