"""Authorization: "the caller holds an active license of type T" and "the caller holds role R
on NodeLicense", from the indexer's mirror at its current indexed block on every request
(read from the database, or from the caller cache while no change has been announced since),
failing closed (503) when the mirror lags the chain head by more than NODERR_MAX_LAG_BLOCKS."""

from __future__ import annotations

import logging

from backend import mirror
from backend.caller import Caller
from backend.chain_client import ChainUnavailable
from backend.context import Backend
from backend.errors import NotAllowed, NotSignedIn, Unavailable
from noderr.domain import NodeType

log = logging.getLogger("noderr.backend.authz")
RETRY_AFTER_SECONDS = 2


async def resolve_caller(backend: Backend, token: str | None) -> Caller:
    """The caller of a session token (NotSignedIn without a live session)."""
    if not token:
        raise NotSignedIn("sign in first: no session cookie or bearer token")
    hashed = backend.session_key.digest(token)
    cached = backend.callers.get(hashed)
    if cached is not None:
        return cached
    generation = backend.callers.generation
    row = await mirror.caller(backend.db, backend.mirror_key, hashed)
    if row is None:
        raise NotSignedIn("session unknown, expired or revoked: sign in again")
    caller = Caller(row["address"], row["token_hash"], row["indexed_block"], row["licenses"],
                    row["roles"])
    backend.callers.put(hashed, caller, row["expires_at"].timestamp(), generation)
    return caller


async def mirror_lag(backend: Backend, caller: Caller) -> str | None:
    """Why the mirror cannot be trusted right now, or None when it is fresh enough."""
    if caller.indexed_block is None:
        return "the indexer has not indexed this chain yet"
    try:
        head = await backend.chain.head()
    except ChainUnavailable as error:
        return f"cannot read the chain head to check the mirror's lag ({error})"
    lag = head - caller.indexed_block
    if lag > backend.max_lag_blocks:
        return (f"the indexer is {lag} blocks behind the chain head (limit "
                f"{backend.max_lag_blocks}): try again shortly")
    return None


def mirror_stale(reason: str) -> Unavailable:
    return Unavailable(reason, retry_after=RETRY_AFTER_SECONDS)


async def require_fresh_mirror(backend: Backend, caller: Caller) -> None:
    reason = await mirror_lag(backend, caller)
    if reason is not None:
        log.warning("gate closed for %s: %s", caller.address, reason)
        raise mirror_stale(reason)


async def require_license(backend: Backend, caller: Caller, node_type: NodeType) -> Caller:
    """The caller, if it holds an Active license of `node_type` now."""
    reason = await mirror_lag(backend, caller)
    if reason is not None:
        return await _confirm_on_chain(backend, caller, node_type, reason)
    if caller.license(node_type) is None:
        raise NotAllowed(f"{caller.address} holds no active {node_type.label} license")
    return caller


async def _confirm_on_chain(backend: Backend, caller: Caller, node_type: NodeType,
                            reason: str) -> Caller:
    """With NODERR_CONFIRM_ON_CHAIN, one `is_active` call decides; otherwise 503."""
    if not backend.settings.confirm_on_chain:
        log.warning("gate closed for %s: %s", caller.address, reason)
        raise mirror_stale(reason)
    try:
        active = await backend.chain.is_active(backend.license_address, caller.address,
                                               node_type)
    except ChainUnavailable as error:
        raise Unavailable(f"{reason}; the chain cannot confirm: {error}") from None
    if not active:
        raise NotAllowed(f"{caller.address} holds no active {node_type.label} "
                         "license (confirmed on-chain)")
    return caller


async def require_role(backend: Backend, caller: Caller, roles: tuple[str, ...]) -> Caller:
    """The caller, if it holds one of `roles` on NodeLicense (by a fresh enough mirror)."""
    await require_fresh_mirror(backend, caller)
    if not caller.holds_any(roles):
        raise NotAllowed(f"{caller.address} holds none of {', '.join(roles)} on NodeLicense")
    return caller


async def require_any_license(backend: Backend, caller: Caller) -> Caller:
    """The caller, if it holds some active license now (by a fresh enough mirror)."""
    reason = await mirror_lag(backend, caller)
    if reason is not None:
        raise mirror_stale(reason)
    if not caller.licenses:
        raise NotAllowed(f"{caller.address} holds no active license")
    return caller
