"""Sessions after a SIWE sign-in: a random token, stored only as its HMAC-SHA256 under the
server's session key (backend/session_key.py, a file outside the database), that expires and
can be revoked. Browsers carry it in an HttpOnly SameSite=Strict cookie, scripts as a bearer
(both read at the edge, backend/api/deps.py). A session ends at the SIWE message's Expiration
Time when that comes before NODERR_SESSION_TTL."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from backend.caller import Caller
from backend.context import Backend
from backend.database import Database
from backend.session_key import SessionKey
from backend.siwe_auth import verify


async def create_session(db: Database, key: SessionKey, address: str,
                         ttl: timedelta) -> tuple[str, datetime]:
    token = secrets.token_urlsafe(32)
    row = await db.fetch_one(
        "INSERT INTO sessions (token_hash, address, expires_at) VALUES (%s, %s, now() + %s) "
        "RETURNING expires_at", (key.digest(token), address, ttl))
    assert row is not None
    return token, row["expires_at"]


async def revoke_session(db: Database, hashed: bytes) -> None:
    await db.fetch(
        "UPDATE sessions SET revoked_at = now() WHERE token_hash = %s AND revoked_at IS NULL "
        "RETURNING 1", (hashed,))


async def revoke_all(db: Database, address: str) -> int:
    rows = await db.fetch("UPDATE sessions SET revoked_at = now() WHERE address = %s AND "
                          "revoked_at IS NULL RETURNING 1", (address,))
    return len(rows)


async def sign_in(backend: Backend, message: str, signature: str) -> tuple[str, str, datetime]:
    """Verify a signed SIWE message and start a session: (address, token, expires_at)."""
    signed = await verify(backend.db, backend.chain, backend.siwe, message, signature)
    ttl = session_ttl(backend, signed.expiration)
    token, expires_at = await create_session(backend.db, backend.session_key, signed.address, ttl)
    return signed.address, token, expires_at


def session_ttl(backend: Backend, expiration: datetime | None = None) -> timedelta:
    """NODERR_SESSION_TTL, cut short by the message's Expiration Time if it comes first."""
    ttl = timedelta(seconds=backend.settings.session_ttl)
    if expiration is None:
        return ttl
    return min(ttl, expiration - datetime.now(UTC))


async def sign_out(backend: Backend, caller: Caller, everywhere: bool) -> None:
    """Revoke the caller's session (or every session of its address) and drop it from this
    process's caller cache at once; other processes hear of it by NOTIFY."""
    if everywhere:
        await revoke_all(backend.db, caller.address)
        backend.callers.forget()
    else:
        await revoke_session(backend.db, caller.token_hash)
        backend.callers.forget(caller.token_hash)
