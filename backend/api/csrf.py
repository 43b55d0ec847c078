"""Cross-site request forgery: a state-changing request authenticated by the session cookie
must come from one of the sign-in origins (NODERR_SIWE_DOMAINS).

SameSite=Strict keeps the cookie off requests from other sites, but a "site" is the
registrable domain: another port of the same host or a sibling subdomain is the same site and
gets the cookie. So every POST/PUT/PATCH/DELETE that carries the cookie and no Authorization
header needs an `Origin` among the sign-in origins or, when it sent no Origin,
`Sec-Fetch-Site: same-origin`. Browsers send one or both on every such request a page makes
(Origin on every cross-origin one); a request with neither comes from no browser page and
is let through, as Go's net/http CrossOriginProtection does. Bearer-token requests are not
affected (a page on another origin cannot make the browser add that header), nor requests
without the cookie (they are not authenticated by it)."""

from __future__ import annotations

from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from backend.api.deps import SESSION_COOKIE

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class CsrfGuard:
    """403 for a cookie-authenticated unsafe request from anywhere but `origins`."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.origins = frozenset(origin.rstrip("/") for origin in origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in UNSAFE_METHODS:
            reason = self.refusal(Headers(scope=scope))
            if reason is not None:
                response = JSONResponse({"detail": reason}, status_code=403)
                return await response(scope, receive, send)
        await self.app(scope, receive, send)

    def refusal(self, headers: Headers) -> str | None:
        """Why this request is refused, or None. The cookie is parsed as the edge reads it
        (backend/api/deps.py: Starlette's `request.cookies`)."""
        if "authorization" in headers or not cookie_parser(
                headers.get("cookie", "")).get(SESSION_COOKIE):
            return None
        origin = headers.get("origin", "")
        if origin:
            if origin.rstrip("/") in self.origins:
                return None
            return (f"cross-site request refused: Origin {origin!r} is not one of the "
                    "sign-in origins (NODERR_SIWE_DOMAINS); a session cookie is only honoured "
                    "for requests from those pages, scripts use a bearer token")
        fetch_site = headers.get("sec-fetch-site")
        if fetch_site is None or fetch_site == "same-origin":
            return None
        return (f"cross-site request refused: Sec-Fetch-Site is {fetch_site!r} and no Origin "
                "was sent; a session cookie is only honoured for requests from the sign-in "
                "origins (NODERR_SIWE_DOMAINS), scripts use a bearer token")
