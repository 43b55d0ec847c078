"""Sessions after a SIWE sign-in: a random token, stored only as its SHA-256, that expires and
can be revoked. Browsers carry it in an HttpOnly SameSite=Strict cookie, scripts as a bearer
(both read at the edge, backend/api/deps.py)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from backend.caller import Caller
from backend.context import Backend
from backend.database import Database
from backend.siwe_auth import verify


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def create_session(db: Database, address: str, ttl: timedelta) -> tuple[str, datetime]:
    token = secrets.token_urlsafe(32)
    row = await db.fetch_one(
        "INSERT INTO sessions (token_hash, address, expires_at) VALUES (%s, %s, now() + %s) "
        "RETURNING expires_at", (token_hash(token), address, ttl))
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
    address = await verify(backend.db, backend.chain, backend.siwe, message, signature)
    token, expires_at = await create_session(backend.db, address, session_ttl(backend))
    return address, token, expires_at


def session_ttl(backend: Backend) -> timedelta:
    return timedelta(seconds=backend.settings.session_ttl)


async def sign_out(backend: Backend, caller: Caller, everywhere: bool) -> None:
    """Revoke the caller's session (or every session of its address) and drop it from this
    process's caller cache at once; other processes hear of it by NOTIFY."""
    if everywhere:
        await revoke_all(backend.db, caller.address)
        backend.callers.forget()
    else:
        await revoke_session(backend.db, caller.token_hash)
        backend.callers.forget(caller.token_hash)
