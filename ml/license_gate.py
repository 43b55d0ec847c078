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

from client import BackendClient, BackendError
from client.models import LicensedNode
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


NodesMe = Callable[[str, float], LicensedNode]
"""GET /nodes/me as the holder of a bearer token, within `timeout` seconds; BackendError when
the backend refuses or does not answer."""


def backend_nodes_me(api_url: str) -> NodesMe:
    """The one backend call of the ML service, through the project's API client; every check
    shares one keep-alive connection pool."""
    transport = httpx.HTTPTransport()

    def nodes_me(token: str, timeout: float) -> LicensedNode:
        return BackendClient(api_url, token=token, timeout=timeout,
                             transport=transport).nodes_me()

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
            node = self.nodes_me(token, timeout)
        except BackendError as error:
            return _refusal(error)
        types = {license_.node_type for license_ in node.licenses}
        if not types & ALLOWED:
            return Decision(Verdict.FORBIDDEN, f"{node.address} holds no active Oracle or "
                                               "Guardian license", node.address,
                            node.indexed_block)
        return Decision(Verdict.GRANTED, "", node.address, node.indexed_block)


def _refusal(error: BackendError) -> Decision:
    """401 and 403 are the backend's verdicts; anything else (unreachable, lagging, a
    malformed answer) fails closed."""
    if error.status == 401:
        return Decision(Verdict.UNAUTHENTICATED, error.detail or "sign in first")
    if error.status == 403:
        return Decision(Verdict.FORBIDDEN, error.detail or "no active license")
    return Decision(Verdict.UNAVAILABLE, f"license check failed: {error}")
