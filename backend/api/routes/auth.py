"""`/auth/*`: SIWE sign-in, the session's caller, sign-out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from backend import siwe_auth
from backend.api.deps import SESSION_COOKIE, BackendDep, SignedInCaller
from backend.api.openapi import problems, signed_in
from backend.api.rate_limits import SIGN_IN, rate_limited
from backend.sessions import sign_in, sign_out

router = APIRouter(tags=["auth"])


class NonceOut(BaseModel):
    nonce: str
    expires_in: int


class VerifyIn(BaseModel):
    message: str = Field(max_length=siwe_auth.MAX_MESSAGE_CHARS,
                         description="The EIP-4361 message, exactly as signed.")
    signature: str = Field(max_length=4200, description="0x-hex signature (EOA or EIP-1271).")


class SessionOut(BaseModel):
    address: str
    token: str = Field(description="Bearer token for scripts; browsers use the cookie.")
    expires_at: datetime


class MeOut(BaseModel):
    address: str
    licenses: list[dict[str, Any]]
    roles: list[str]
    indexed_block: int | None


@router.get("/auth/nonce", response_model=NonceOut,
            dependencies=[Depends(rate_limited(SIGN_IN))])
async def nonce(backend: BackendDep) -> NonceOut:
    """A fresh single-use nonce to put in the SIWE message."""
    value = await siwe_auth.issue_nonce(backend.db, backend.siwe.nonce_ttl)
    return NonceOut(nonce=value, expires_in=int(backend.siwe.nonce_ttl.total_seconds()))


@router.post("/auth/verify", response_model=SessionOut, responses=problems(401, 503),
             dependencies=[Depends(rate_limited(SIGN_IN))])
async def verify(body: VerifyIn, request: Request, response: Response,
                 backend: BackendDep) -> SessionOut:
    """Check the signed SIWE message; start a session (cookie and bearer token)."""
    address, token, expires_at = await sign_in(backend, body.message, body.signature)
    set_cookie(response, request, token, expires_at - datetime.now(UTC))
    return SessionOut(address=address, token=token, expires_at=expires_at)


@router.get("/auth/me", response_model=MeOut, **signed_in())
async def me(caller: SignedInCaller) -> MeOut:
    """The signed-in address, its active licenses and its NodeLicense roles (from the mirror)."""
    return MeOut(address=caller.address, licenses=caller.licenses, roles=caller.roles,
                 indexed_block=caller.indexed_block)


@router.post("/auth/logout", status_code=204, **signed_in())
async def logout(request: Request, caller: SignedInCaller, backend: BackendDep,
                 everywhere: bool = False) -> Response:
    """Revoke this session (or, with `everywhere=true`, every session of this address)."""
    await sign_out(backend, caller, everywhere)
    response = Response(status_code=204)
    clear_cookie(response, request)
    return response


def set_cookie(response: Response, request: Request, token: str, ttl: timedelta) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=max(0, int(ttl.total_seconds())),
                        httponly=True, samesite="strict", secure=request.url.scheme == "https",
                        path="/")


def clear_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="strict",
                           secure=request.url.scheme == "https", path="/")
