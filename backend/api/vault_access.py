"""Who may use a license's vault: the backend's own authorization (session, mirror freshness,
the caller's active licenses from the mirror), applied to one token id. A refusal of a
signed-in caller is audited before it is answered; a revoked license's data key is destroyed
when seen.

A refusal for want of a session is attributable to nobody: it is counted (the Prometheus
counter ANONYMOUS_DENIALS, and a log line at most once a minute) and rate-limited per client
(NODERR_RATE_LIMIT_ANONYMOUS, 429 past it), never chained into the audit log, where each one
used to take the head lock and add a permanent row, so a flood stalled every vault request."""

from __future__ import annotations

import logging
import re
import time
import uuid
from dataclasses import dataclass

from fastapi import HTTPException, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import Counter
from starlette.types import ASGIApp, Receive, Scope, Send

from backend import authz, mirror
from backend.api.deps import SESSION_COOKIE, current_caller
from backend.api.errors import http_exception
from backend.api.rate_limits import ANONYMOUS as ANONYMOUS_RULE
from backend.api.rate_limits import check, too_many
from backend.caller import Caller
from backend.context import Backend
from backend.errors import NotSignedIn, Refused
from backend.vault import audit, service
from backend.vault.audit import AuditUnavailable, Event
from backend.vault.crypto import TokenBinding
from backend.vault.service import Access, Vault, VaultError
from noderr.domain import role_id

log = logging.getLogger("noderr.vault")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
ANONYMOUS_DENIALS = Counter("noderr_vault_anonymous_denials",
                            "Vault requests refused for want of a session")
LOG_INTERVAL = 60.0
NO_CREDENTIALS = "sign in first: no session cookie or bearer token"
SESSION_COOKIE_PREFIX = f"{SESSION_COOKIE}=".encode()


def given_request_id(request: Request) -> str:
    """The caller's X-Request-ID when well formed, else a new one."""
    given = request.headers.get("x-request-id", "")
    return given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


@dataclass(frozen=True)
class VaultRequest:
    """What every vault route works with: the backend, the vault and the request id."""

    backend: Backend
    vault: Vault
    rid: str


def vault_request(request: Request, response: Response) -> VaultRequest:
    """The backend, the vault and the request id (see given_request_id, echoed in the
    response). Called by the routes themselves, not declared as dependencies: FastAPI solves
    each declared dependency on every request, and the three this replaces made a vault read
    four dependency solves where it is now one."""
    rid = given_request_id(request)
    response.headers["X-Request-ID"] = rid
    return VaultRequest(request.app.state.backend, request.app.state.vault, rid)


def http_error(error: VaultError | HTTPException, rid: str) -> HTTPException:
    if isinstance(error, HTTPException):
        return HTTPException(error.status_code, error.detail,
                             headers={**(error.headers or {}), "X-Request-ID": rid})
    return HTTPException(error.status, error.message, headers={"X-Request-ID": rid})


async def deny(backend: Backend, event: Event, error: HTTPException) -> HTTPException:
    """Audit a refused attempt; the refusal to raise (503 when it cannot be audited)."""
    try:
        await audit.record(backend.db, event)
    except AuditUnavailable as audit_error:
        return http_error(VaultError(503, "vault audit log unavailable, operation refused: "
                                          f"{audit_error}"), event.request_id)
    return http_error(error, event.request_id)


class DenialLog:
    """A log line about anonymous refusals at most once per LOG_INTERVAL seconds."""

    def __init__(self) -> None:
        self.since, self.denied, self.limited = time.monotonic(), 0, 0

    def count(self, limited: bool) -> None:
        self.denied += 1
        self.limited += limited
        now = time.monotonic()
        if now - self.since >= LOG_INTERVAL or self.denied == 1:
            log.warning("vault: %d requests refused without a session in %.0f s (%d of them "
                        "past the per-client limit)", self.denied, now - self.since,
                        self.limited)
            self.since, self.denied, self.limited = now, 0, 0


denial_log = DenialLog()


async def deny_anonymous(request: Request, refused: Refused, rid: str) -> HTTPException:
    """The answer to a caller without a session: counted and rate-limited, not audited."""
    ANONYMOUS_DENIALS.inc()
    retry_after = await check(request, ANONYMOUS_RULE)
    denial_log.count(retry_after is not None)
    error = http_exception(refused) if retry_after is None else too_many(ANONYMOUS_RULE,
                                                                        retry_after)
    return http_error(error, rid)


class AnonymousGate:
    """ASGI middleware: a vault request without any credentials (no Authorization header, no
    session cookie) is refused as `deny_anonymous` refuses it, before routing, validation
    and dependencies, which cost a flood of them several times more. Requests that carry
    credentials, valid or not, go on to the routes."""

    PREFIX = "/vault/"

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or not scope["path"].startswith(self.PREFIX)
                or _has_credentials(scope)):
            return await self.app(scope, receive, send)
        request = Request(scope)
        rid = given_request_id(request)
        error = await deny_anonymous(request, NotSignedIn(NO_CREDENTIALS), rid)
        await JSONResponse({"detail": error.detail}, status_code=error.status_code,
                           headers=error.headers)(scope, receive, send)


def _has_credentials(scope: Scope) -> bool:
    return any(name == b"authorization" or (name == b"cookie" and SESSION_COOKIE_PREFIX in value)
               for name, value in scope["headers"])


async def authorize(request: Request, call: VaultRequest, token_id: int, name: str | None,
                    action: str) -> Access:
    """Access for the current owner of the active license `token_id`, or an audited refusal."""
    backend, vault, rid = call.backend, call.vault, call.rid
    try:
        caller = await current_caller(request, backend)
    except Refused as refused:
        raise await deny_anonymous(request, refused, rid) from None
    refusal = await _refusal(backend, caller, token_id, rid)
    if refusal is not None:
        raise await deny(backend, Event(caller.address, action, "denied", rid, token_id, name,
                                        str(refusal.detail)), refusal) from None
    try:
        vault.provider()
    except VaultError as error:
        raise await deny(backend, Event(caller.address, action, "error", rid, token_id, name,
                                        error.message), http_error(error, rid)) from None
    binding = TokenBinding(backend.chain_id, backend.license_address, token_id,
                           caller.address.lower())
    return Access(backend.db, vault, binding, caller.address, rid)


async def _refusal(backend: Backend, caller: Caller, token_id: int,
                   rid: str) -> HTTPException | None:
    """Why `caller` may not use license `token_id`'s vault, or None."""
    lag = await authz.mirror_lag(backend, caller)
    if lag is not None:
        return HTTPException(503, lag, headers={"Retry-After": "2"})
    if any(int(item["token_id"]) == token_id for item in caller.licenses):
        return None
    async with backend.db.connection() as conn:
        row = await mirror.license_state(conn, backend.chain_id, backend.license_address,
                                         token_id)
    if row is None:
        return HTTPException(404, f"no license {token_id}")
    if row["status"] == "revoked" or row["owner"] != caller.address.lower():
        await service.sweep(backend.db, backend.chain_id, backend.license_address, rid)
    if row["status"] == "revoked":
        return HTTPException(403, f"license {token_id} is revoked: its vault is closed (and "
                                  "destroyed once the revocation is final)")
    if row["owner"] != caller.address.lower():
        return HTTPException(403, f"{caller.address} does not own license {token_id}")
    return HTTPException(403, f"license {token_id} is {row['status']}: "
                              "its vault is closed until it is reinstated")


def role_ids(names: list[str]) -> tuple[str, ...]:
    """Each role by name and by id: the mirror names only roles the ABI has getters for."""
    return tuple(item for name in names for item in (name, "0x" + role_id(name).hex()))


async def authorize_auditor(request: Request, call: VaultRequest, action: str) -> str:
    """The auditor's address (a holder of NODERR_VAULT_AUDITOR_ROLES), or a refusal (audited
    when the caller is signed in)."""
    backend, vault, rid = call.backend, call.vault, call.rid
    try:
        caller = await current_caller(request, backend)
    except Refused as refused:
        raise await deny_anonymous(request, refused, rid) from None
    try:
        await authz.require_role(backend, caller, role_ids(vault.settings.auditor_roles))
    except Refused as refused:
        raise await deny(backend, Event(caller.address, action, "denied", rid, None, None,
                                        refused.message), http_exception(refused)) from None
    return caller.address
