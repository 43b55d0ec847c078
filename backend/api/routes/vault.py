"""`/vault/...`: secrets per license token (owner of an active license only) and the audit
log (auditor roles only). Values appear only in a GET of one secret, never in a list, a log
line or an error message."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field, field_validator

from backend.api.openapi import signed_in
from backend.api.vault_access import (
    VaultRequest,
    authorize,
    authorize_auditor,
    http_error,
    vault_request,
)
from backend.context import Backend
from backend.vault import audit, service
from backend.vault.audit import AuditUnavailable, Event
from backend.vault.crypto import encode_secret
from backend.vault.service import Vault, VaultError
from backend.vault.settings import get_vault_settings

log = logging.getLogger("noderr.vault")
UINT256_MAX = 2**256 - 1
TokenId = Annotated[int, Path(ge=0, le=UINT256_MAX, description="License token id.")]
SecretName = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
                                 description="Secret name: letters, digits, . _ -")]


class SecretIn(BaseModel):
    """A small JSON object (exchange, api_key, api_secret, passphrase, ...)."""

    data: dict[str, Any] = Field(description="The secret; string keys, JSON values.")

    @field_validator("data")
    @classmethod
    def _not_empty(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not value:
            raise ValueError("a secret needs at least one field")
        return value


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Attach the vault (unless a test did) and run the shredding sweep in the background."""
    if not hasattr(app.state, "vault"):
        app.state.vault = Vault(get_vault_settings())
    task = asyncio.create_task(_sweeper(app.state.backend, app.state.vault))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _sweeper(backend: Backend, vault: Vault) -> None:
    while True:
        try:
            await service.sweep(backend.db, backend.chain_id, backend.license_address, "sweep")
        except (psycopg.Error, AuditUnavailable) as error:
            log.warning("vault sweep failed, retrying later: %s", type(error).__name__)
        await asyncio.sleep(vault.settings.shred_interval)


router = APIRouter(prefix="/vault", tags=["vault"], lifespan=lifespan)
@router.put("/licenses/{token_id}/secrets/{name}", **signed_in(404))
async def put_secret(token_id: TokenId, name: SecretName, body: SecretIn, request: Request,
                     response: Response) -> dict[str, Any]:
    """Store a new version of the secret (earlier versions are kept until deleted)."""
    call = vault_request(request, response)
    limit = call.vault.settings.max_secret_bytes
    if len(encode_secret(body.data)) > limit:
        raise HTTPException(422, f"secret over {limit} bytes (NODERR_VAULT_MAX_SECRET_BYTES)")
    access = await authorize(request, call, token_id, name, "write")
    try:
        meta = await service.put_secret(access, name, body.data)
    except VaultError as error:
        raise http_error(error, call.rid) from None
    return {"token_id": token_id, **meta}


@router.get("/licenses/{token_id}/secrets/{name}", **signed_in(404))
async def get_secret(token_id: TokenId, name: SecretName, request: Request, response: Response,
                     version: int | None = Query(None, ge=1, le=2**31 - 1)) -> dict[str, Any]:
    """The latest version of the secret (or `version`), decrypted."""
    call = vault_request(request, response)
    access = await authorize(request, call, token_id, name, "read")
    try:
        meta, data = await service.get_secret(access, name, version)
    except VaultError as error:
        raise http_error(error, call.rid) from None
    return {"token_id": token_id, **meta, "data": data}


@router.get("/licenses/{token_id}/secrets", **signed_in(404))
async def list_secrets(token_id: TokenId, request: Request,
                       response: Response) -> dict[str, Any]:
    """Names and metadata of the license's secrets; never their values."""
    call = vault_request(request, response)
    access = await authorize(request, call, token_id, None, "list")
    try:
        items = await service.list_secrets(access)
    except VaultError as error:
        raise http_error(error, call.rid) from None
    return {"token_id": token_id, "secrets": items}


@router.delete("/licenses/{token_id}/secrets/{name}", **signed_in(404))
async def delete_secret(token_id: TokenId, name: SecretName, request: Request,
                        response: Response) -> dict[str, Any]:
    """Delete every version of the secret."""
    call = vault_request(request, response)
    access = await authorize(request, call, token_id, name, "delete")
    try:
        deleted = await service.delete_secret(access, name)
    except VaultError as error:
        raise http_error(error, call.rid) from None
    return {"token_id": token_id, "name": name, "deleted_versions": deleted}


async def _audited_read(call: VaultRequest, actor: str, action: str, detail: str) -> None:
    try:
        await audit.record(call.backend.db, Event(actor, action, "ok", call.rid, None, None,
                                                  detail))
    except AuditUnavailable as error:
        raise http_error(VaultError(503, f"vault audit log unavailable: {error}"),
                         call.rid) from None


@router.get("/audit", **signed_in())
async def audit_log(request: Request, response: Response,
                    after: int = Query(0, ge=0, le=2**62),
                    limit: int = Query(100, ge=1, le=1000)) -> dict[str, Any]:
    """Audit entries after seq `after` (auditor roles only), with the chain's head."""
    call = vault_request(request, response)
    actor = await authorize_auditor(request, call, "audit_read")
    await _audited_read(call, actor, "audit_read", f"after {after}, limit {limit}")
    async with call.backend.db.connection() as conn:
        seq, digest = await audit.head(conn)
        entries = [audit.public(e) for e in await audit.page(conn, after, limit, seq)]
    return {"entries": entries, "head": {"seq": seq, "hash": digest.hex()},
            "next_after": entries[-1]["seq"] if len(entries) == limit else None}


@router.get("/audit/export", response_class=StreamingResponse, **signed_in(ok={
    "description": "JSON lines, oldest first.",
    "content": {"application/x-ndjson": {"schema": {"type": "string"}}}}))
async def audit_export(request: Request, response: Response) -> StreamingResponse:
    """The whole log as JSON lines with hashes, for `noderr vault verify-audit --file`."""
    call = vault_request(request, response)
    backend, rid = call.backend, call.rid
    actor = await authorize_auditor(request, call, "audit_export")
    await _audited_read(call, actor, "audit_export", "full export")

    async with backend.db.connection() as conn:
        seq, digest = await audit.head(conn)

    async def lines() -> AsyncIterator[bytes]:
        async with backend.db.connection() as conn:
            async for entry in audit.stream(conn, until=seq):
                yield json.dumps(audit.public(entry)).encode() + b"\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson", headers={
        "X-Request-ID": rid, "X-Vault-Audit-Head": f"{seq}:{digest.hex()}",
        "Content-Disposition": 'attachment; filename="vault-audit.ndjson"'})
