"""Per-client rate limits of the routes anyone can call: sign-in (`/auth/nonce`,
`/auth/verify`), `POST /applications`, the public auditor reads, and the vault's refusals of
callers who are not signed in. Past its limit a route answers 429 with `Retry-After`.

The client is the peer address of the connection as uvicorn reports it; X-Forwarded-For is
never read here, since any client can send it. uvicorn (which `noderr api` runs) replaces the
peer address with X-Forwarded-For's only on connections from FORWARDED_ALLOW_IPS (an
environment variable; default 127.0.0.1, a proxy on the same host). Behind a proxy on another
host, set FORWARDED_ALLOW_IPS to its address, or every client shares the proxy's budget.

An answer past a limit is held for NODERR_RATE_LIMIT_DELAY seconds first: a client that
floods over a few keep-alive connections then gets a few answers a second instead of keeping
the worker's event loop busy (every request in flight waits behind the ready ones).

Counters are kept in memory by each API process (the `limits` library's moving window): with
`noderr api --workers N` a client gets up to N times each limit, and a restart forgets them."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, HTTPException, Request
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from backend.settings import BackendSettings

SIGN_IN = "sign_in"
APPLICATIONS = "applications"
PUBLIC = "public"
ANONYMOUS = "anonymous"


class RateLimits:
    """One moving-window limit per rule name, counted per client."""

    def __init__(self, rules: dict[str, str], delay: float = 0.0) -> None:
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.rules: dict[str, RateLimitItem] = {name: parse(rule) for name, rule in rules.items()}
        self.delay = delay

    @classmethod
    def from_settings(cls, settings: BackendSettings) -> RateLimits:
        return cls({SIGN_IN: settings.rate_limit_sign_in,
                    APPLICATIONS: settings.rate_limit_applications,
                    PUBLIC: settings.rate_limit_public,
                    ANONYMOUS: settings.rate_limit_anonymous}, settings.rate_limit_delay)

    def hit(self, rule: str, client: str) -> int | None:
        """Count one request of `client` under `rule`: None when within the limit, else the
        seconds until the window lets the client in again."""
        item = self.rules[rule]
        if self.limiter.hit(item, rule, client):
            return None
        reset_at = self.limiter.get_window_stats(item, rule, client).reset_time
        return max(1, math.ceil(reset_at - time.time()))


def install(app: FastAPI, settings: BackendSettings) -> None:
    app.state.rate_limits = RateLimits.from_settings(settings)


def client_of(request: Request) -> str:
    """The peer address (see the module docstring for proxies)."""
    return request.client.host if request.client else "unknown"


def too_many(rule: str, retry_after: int) -> HTTPException:
    return HTTPException(429, f"too many requests from this client ({rule} limit); retry in "
                              f"{retry_after} s", headers={"Retry-After": str(retry_after)})


async def check(request: Request, rule: str) -> int | None:
    """Count this request under `rule`: None within the limit, else the Retry-After seconds,
    once the answer has been held for the configured delay."""
    limits: RateLimits = request.app.state.rate_limits
    retry_after = limits.hit(rule, client_of(request))
    if retry_after is not None and limits.delay:
        await asyncio.sleep(limits.delay)
    return retry_after


def rate_limited(rule: str) -> Callable[[Request], Awaitable[None]]:
    """Dependency: the route counts against `rule` (429 with Retry-After past the limit)."""

    async def dependency(request: Request) -> None:
        retry_after = await check(request, rule)
        if retry_after is not None:
            raise too_many(rule, retry_after)

    return dependency
