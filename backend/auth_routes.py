"""`/auth/*`: SIWE sign-in, the session's caller, sign-out."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from backend import siwe_auth
from backend.authz import Caller, current_caller
from backend.context import Backend, get_backend
from backend.sessions import clear_cookie, create_session, revoke_all, revoke_session, set_cookie

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


@router.get("/auth/nonce", response_model=NonceOut)
async def nonce(backend: Backend = Depends(get_backend)) -> NonceOut:
    """A fresh single-use nonce to put in the SIWE message."""
    value = await siwe_auth.issue_nonce(backend.db, backend.siwe.nonce_ttl)
    return NonceOut(nonce=value, expires_in=int(backend.siwe.nonce_ttl.total_seconds()))


@router.post("/auth/verify", response_model=SessionOut)
async def verify(body: VerifyIn, request: Request, response: Response,
                 backend: Backend = Depends(get_backend)) -> SessionOut:
    """Check the signed SIWE message; start a session (cookie and bearer token)."""
    address = await siwe_auth.verify(backend.db, backend.chain, backend.siwe, body.message,
                                     body.signature)
    ttl = timedelta(seconds=backend.settings.session_ttl)
    token, expires_at = await create_session(backend.db, address, ttl)
    set_cookie(response, request, token, ttl)
    return SessionOut(address=address, token=token, expires_at=expires_at)


@router.get("/auth/me", response_model=MeOut)
async def me(caller: Caller = Depends(current_caller)) -> MeOut:
    """The signed-in address, its active licenses and its NodeLicense roles (from the mirror)."""
    return MeOut(address=caller.address, licenses=caller.licenses, roles=caller.roles,
                 indexed_block=caller.indexed_block)


@router.post("/auth/logout", status_code=204)
async def logout(request: Request, everywhere: bool = False,
                 caller: Caller = Depends(current_caller),
                 backend: Backend = Depends(get_backend)) -> Response:
    """Revoke this session (or, with `everywhere=true`, every session of this address)."""
    if everywhere:
        await revoke_all(backend.db, caller.address)
        backend.callers.forget()
    else:
        await revoke_session(backend.db, caller.token_hash)
        backend.callers.forget(caller.token_hash)
    response = Response(status_code=204)
    clear_cookie(response, request)
    return response
