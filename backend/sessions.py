"""Sessions after a SIWE sign-in: a random token, stored only as its SHA-256, that expires and
can be revoked. Browsers carry it in an HttpOnly SameSite=Strict cookie, scripts as a bearer."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from fastapi import HTTPException, Request, Response

from backend.database import Database

COOKIE = "noderr_session"


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def create_session(db: Database, address: str, ttl: timedelta) -> tuple[str, datetime]:
    token = secrets.token_urlsafe(32)
    row = await db.fetch_one(
        "INSERT INTO sessions (token_hash, address, expires_at) VALUES (%s, %s, now() + %s) "
        "RETURNING expires_at", (token_hash(token), address, ttl))
    assert row is not None
    return token, row["expires_at"]


def presented_token(request: Request) -> str | None:
    """The bearer token if an Authorization header is sent, else the session cookie."""
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise HTTPException(401, "Authorization header must be 'Bearer <session token>'")
        return token.strip()
    return request.cookies.get(COOKIE)


def unauthenticated(reason: str) -> HTTPException:
    return HTTPException(401, reason, headers={"WWW-Authenticate": "Bearer"})


async def revoke_session(db: Database, hashed: bytes) -> None:
    await db.fetch(
        "UPDATE sessions SET revoked_at = now() WHERE token_hash = %s AND revoked_at IS NULL "
        "RETURNING 1", (hashed,))


async def revoke_all(db: Database, address: str) -> int:
    rows = await db.fetch("UPDATE sessions SET revoked_at = now() WHERE address = %s AND "
                          "revoked_at IS NULL RETURNING 1", (address,))
    return len(rows)


def set_cookie(response: Response, request: Request, token: str, ttl: timedelta) -> None:
    response.set_cookie(COOKIE, token, max_age=int(ttl.total_seconds()), httponly=True,
                        samesite="strict", secure=request.url.scheme == "https", path="/")


def clear_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(COOKIE, httponly=True, samesite="strict",
                           secure=request.url.scheme == "https", path="/")
