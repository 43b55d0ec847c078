"""Authorization: "the caller holds an active license of type T" and "the caller holds role R
on NodeLicense", from the indexer's mirror at its current indexed block on every request
(read from the database, or from the caller cache while no change has been announced since),
failing closed (503) when the mirror lags the chain head by more than NODERR_MAX_LAG_BLOCKS."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Depends, HTTPException, Request

from backend.chain import ChainUnavailable
from backend.context import Backend, get_backend
from backend.sessions import presented_token, token_hash, unauthenticated

log = logging.getLogger("noderr.backend.authz")
NODE_TYPES = {1: "Oracle", 2: "Guardian", 3: "Validator"}
ADMIN_ROLES = ("MINTER_ROLE", "REVOKER_ROLE")

# One round trip: the session, the mirror's checkpoint, the caller's active licenses and roles.
CALLER_SQL = """
SELECT s.address, s.token_hash, s.expires_at,
  (SELECT block_number FROM indexer_checkpoints WHERE chain_id = %(chain_id)s) AS indexed_block,
  (SELECT coalesce(json_agg(json_build_object(
       'token_id', l.token_id, 'node_type', l.node_type, 'status', l.status,
       'application_id', l.application_id, 'minted_block', l.minted_block)
       ORDER BY l.node_type), '[]')
     FROM licenses l WHERE l.chain_id = %(chain_id)s AND l.contract_address = %(license)s
       AND l.owner = lower(s.address) AND l.status = 'active') AS licenses,
  (SELECT coalesce(json_agg(coalesce(r.role_name, r.role) ORDER BY r.role_name), '[]')
     FROM role_members r WHERE r.chain_id = %(chain_id)s AND r.contract_address = %(license)s
       AND r.account = lower(s.address)) AS roles
FROM sessions s
WHERE s.token_hash = %(token_hash)s AND s.revoked_at IS NULL AND s.expires_at > now()
"""


@dataclass
class Caller:
    """A signed-in wallet and what the mirror says it holds at `indexed_block`."""

    address: str
    token_hash: bytes
    indexed_block: int | None
    licenses: list[dict[str, Any]] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)

    def license(self, node_type: int) -> dict[str, Any] | None:
        return next((item for item in self.licenses if item["node_type"] == node_type), None)


async def current_caller(request: Request, backend: Backend = Depends(get_backend)) -> Caller:
    """The signed-in caller (401 without a live session)."""
    token = presented_token(request)
    if not token:
        raise unauthenticated("sign in first: no session cookie or bearer token")
    hashed = token_hash(token)
    cached = backend.callers.get(hashed)
    if cached is not None:
        return cached
    generation = backend.callers.generation
    row = await backend.db.fetch_one(CALLER_SQL, {**backend.mirror_key, "token_hash": hashed})
    if row is None:
        raise unauthenticated("session unknown, expired or revoked: sign in again")
    caller = Caller(row["address"], row["token_hash"], row["indexed_block"], row["licenses"],
                    row["roles"])
    backend.callers.put(hashed, caller, row["expires_at"].timestamp(), generation)
    return caller


async def _flat_caller(request: Request) -> tuple[Backend, Caller]:
    """The backend and the caller without sub-dependencies: FastAPI re-inspects every
    dependency of the chain on each request (cache keys, scopes, generator checks), which a
    cProfile of the gated path showed as its largest cost after the database round trip."""
    backend: Backend = request.app.state.backend
    return backend, await current_caller(request, backend)


async def mirror_lag(backend: Backend, caller: Caller) -> str | None:
    """Why the mirror cannot be trusted right now, or None when it is fresh enough."""
    if caller.indexed_block is None:
        return "the indexer has not indexed this chain yet"
    try:
        head = await backend.chain.head()
    except ChainUnavailable as error:
        return f"cannot read the chain head to check the mirror's lag ({error})"
    lag = head - caller.indexed_block
    if lag > backend.settings.max_lag_blocks:
        return (f"the indexer is {lag} blocks behind the chain head (limit "
                f"{backend.settings.max_lag_blocks}): try again shortly")
    return None


async def require_fresh_mirror(backend: Backend, caller: Caller) -> None:
    reason = await mirror_lag(backend, caller)
    if reason is not None:
        log.warning("gate closed for %s: %s", caller.address, reason)
        raise HTTPException(503, reason, headers={"Retry-After": "2"})


def require_license(node_type: int) -> Callable[..., Awaitable[Caller]]:
    """Dependency: the caller holds an Active license of `node_type` now."""
    if node_type not in NODE_TYPES:
        raise ValueError(f"unknown node type {node_type}")

    async def dependency(request: Request) -> Caller:
        backend, caller = await _flat_caller(request)
        reason = await mirror_lag(backend, caller)
        if reason is not None:
            return await _confirm_on_chain(backend, caller, node_type, reason)
        if caller.license(node_type) is None:
            raise HTTPException(403, f"{caller.address} holds no active "
                                     f"{NODE_TYPES[node_type]} license")
        return caller

    return dependency


async def _confirm_on_chain(backend: Backend, caller: Caller, node_type: int,
                            reason: str) -> Caller:
    """With NODERR_CONFIRM_ON_CHAIN, one `is_active` call decides; otherwise 503."""
    if not backend.settings.confirm_on_chain:
        log.warning("gate closed for %s: %s", caller.address, reason)
        raise HTTPException(503, reason, headers={"Retry-After": "2"})
    try:
        active = await backend.chain.is_active(backend.license_address, caller.address,
                                               node_type)
    except ChainUnavailable as error:
        raise HTTPException(503, f"{reason}; the chain cannot confirm: {error}") from None
    if not active:
        raise HTTPException(403, f"{caller.address} holds no active {NODE_TYPES[node_type]} "
                                 "license (confirmed on-chain)")
    return caller


def require_role(*roles: str) -> Callable[..., Awaitable[Caller]]:
    """Dependency: the caller holds one of `roles` on NodeLicense (from the mirror)."""

    async def dependency(caller: Caller = Depends(current_caller),
                         backend: Backend = Depends(get_backend)) -> Caller:
        await require_fresh_mirror(backend, caller)
        if not set(roles) & set(caller.roles):
            raise HTTPException(403, f"{caller.address} holds none of {', '.join(roles)} "
                                     "on NodeLicense")
        return caller

    return dependency


require_admin = require_role(*ADMIN_ROLES)
