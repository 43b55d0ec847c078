"""Who may call the ML service: a caller signed in with SIWE (its bearer session token) who
holds an active Oracle or Guardian license, as the backend's `GET /nodes/me` says.

The backend is the one authority (sessions, the license mirror, its lag check), so this asks it
rather than reading the database. A decision is reused for a couple of seconds per token, and
records the indexed block it was read at; when the backend is unreachable, lags (503) or
answers anything unexpected, the call is refused: the gate fails closed.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import httpx

from noderr.domain import NodeType

ALLOWED = frozenset({NodeType.ORACLE, NodeType.GUARDIAN})
MAX_CACHED = 10_000


class Verdict(Enum):
    GRANTED = "granted"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reason: str
    address: str | None = None
    indexed_block: int | None = None


NodesMe = Callable[[str, float], httpx.Response]
"""Sends GET /nodes/me with the bearer token, within `timeout` seconds."""


def http_nodes_me(api_url: str) -> NodesMe:
    """The one HTTP call of the ML service, over a pooled keep-alive client."""
    client = httpx.Client(base_url=api_url)

    def nodes_me(token: str, timeout: float) -> httpx.Response:
        return client.get("/nodes/me", headers={"Authorization": f"Bearer {token}"},
                          timeout=timeout)

    return nodes_me


class LicenseGate:
    def __init__(self, nodes_me: NodesMe, cache_seconds: float = 2.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.nodes_me = nodes_me
        self.cache_seconds = cache_seconds
        self.clock = clock
        self._cache: dict[bytes, tuple[float, Decision]] = {}
        self._lock = threading.Lock()

    def check(self, token: str, timeout: float) -> Decision:
        key = hashlib.sha256(token.encode()).digest()
        now = self.clock()
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        decision = self._ask(token, timeout)
        if decision.verdict is not Verdict.UNAVAILABLE and self.cache_seconds > 0:
            with self._lock:
                if len(self._cache) >= MAX_CACHED:
                    self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
                self._cache[key] = (now + self.cache_seconds, decision)
        return decision

    def _ask(self, token: str, timeout: float) -> Decision:
        try:
            response = self.nodes_me(token, timeout)
        except httpx.HTTPError as error:
            return Decision(Verdict.UNAVAILABLE, f"license check failed: backend unreachable "
                                                 f"({type(error).__name__})")
        detail = _detail(response)
        if response.status_code == 401:
            return Decision(Verdict.UNAUTHENTICATED, detail or "sign in first")
        if response.status_code == 403:
            return Decision(Verdict.FORBIDDEN, detail or "no active license")
        if response.status_code != 200:
            return Decision(Verdict.UNAVAILABLE, f"license check failed: backend answered "
                                                 f"{response.status_code} {detail}".rstrip())
        try:
            body = response.json()
            types = {int(item["node_type"]) for item in body["licenses"]}
            address, block = str(body["address"]), body.get("indexed_block")
        except (ValueError, KeyError, TypeError):
            return Decision(Verdict.UNAVAILABLE, "license check failed: malformed /nodes/me")
        if not types & ALLOWED:
            return Decision(Verdict.FORBIDDEN, f"{address} holds no active Oracle or Guardian "
                                               "license", address, block)
        return Decision(Verdict.GRANTED, "", address, block)


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail", "")
    except (ValueError, AttributeError):
        return ""
    return detail if isinstance(detail, str) else str(detail)
