"""`/applications`: apply, claim a wallet by SIWE, and (admins) list, approve, reject."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field

from backend import applications as apps
from backend.authz import (
    ADMIN_ROLES,
    Caller,
    current_caller,
    mirror_lag,
    require_admin,
    require_fresh_mirror,
    require_role,
)
from backend.context import Backend, get_backend

router = APIRouter(prefix="/applications", tags=["applications"])
require_minter = require_role("MINTER_ROLE")


class ReviewIn(BaseModel):
    note: str = Field(min_length=1, max_length=1000, description="Why; shown in the history.")


def present(backend: Backend, row: dict[str, Any]) -> dict[str, Any]:
    out = {**row, "id": str(row["id"]),
           "token_id": None if row["token_id"] is None else int(row["token_id"])}
    if row["status"] == "approved":
        out["mint_transaction"] = apps.mint_transaction(backend.license_address,
                                                        backend.chain_id, row)
    return out


async def load(backend: Backend, app_id: uuid.UUID) -> dict[str, Any]:
    async with backend.db.transaction() as conn:
        await apps.reconcile_minted(conn, backend.mirror_key)
        row = await (await conn.execute(
            apps.query("SELECT {columns} FROM applications WHERE id = %s"), (app_id,))).fetchone()
    if row is None:
        raise HTTPException(404, f"no application {app_id}")
    return row


@router.post("", status_code=201)
async def apply(body: apps.ApplicationIn, caller: Caller = Depends(current_caller),
                backend: Backend = Depends(get_backend)) -> dict[str, Any]:
    """Apply as the signed-in wallet (its address is verified by the session)."""
    if body.wallet_address != caller.address:
        raise HTTPException(403, f"wallet_address must be the signed-in wallet {caller.address}")
    async with backend.db.transaction() as conn:
        row = await apps.create(conn, body, source="api", actor=caller.address, verified=True)
    assert row is not None
    return present(backend, row)


@router.get("")
async def list_applications(
    status: apps.Status | None = None,
    node_type: int | None = Query(None, ge=1, le=3),
    wallet: str | None = Query(None, max_length=42),
    verified: bool | None = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=1_000_000),
    _: Caller = Depends(require_admin),
    backend: Backend = Depends(get_backend),
) -> list[dict[str, Any]]:
    """Admins (MINTER or REVOKER holders): applications, newest first, filtered."""
    async with backend.db.transaction() as conn:
        await apps.reconcile_minted(conn, backend.mirror_key)
        rows = await (await conn.execute(
            apps.query(
                "SELECT {columns} FROM applications WHERE "
                "(%(status)s::text IS NULL OR status = %(status)s) AND "
                "(%(node_type)s::int IS NULL OR node_type = %(node_type)s) AND "
                "(%(wallet)s::text IS NULL OR lower(wallet_address) = lower(%(wallet)s)) AND "
                "(%(verified)s::bool IS NULL OR wallet_verified = %(verified)s) "
                "ORDER BY created_at DESC, id LIMIT %(limit)s OFFSET %(offset)s"),
            {"status": status, "node_type": node_type, "wallet": wallet, "verified": verified,
             "limit": limit, "offset": offset})).fetchall()
    return [present(backend, row) for row in rows]


async def reader_is_admin(backend: Backend, caller: Caller, row: dict[str, Any]) -> bool:
    """The applicant's own wallet, or an admin, may read an application; True for an admin
    (a MINTER or REVOKER holder by a mirror fresh enough to trust its roles)."""
    is_admin = bool(set(caller.roles) & set(ADMIN_ROLES))
    if row["wallet_address"].lower() == caller.address.lower():
        return is_admin and await mirror_lag(backend, caller) is None
    await require_fresh_mirror(backend, caller)
    if not is_admin:
        raise HTTPException(403, "only the application's wallet or an admin may read it")
    return True


async def raw_answers(backend: Backend, app_id: uuid.UUID) -> dict[str, Any]:
    """Every answer of the application's Typeform response, by field ref ({} from the API)."""
    row = await backend.db.fetch_one("SELECT answers FROM applications WHERE id = %s", (app_id,))
    return row["answers"] if row else {}


@router.get("/{app_id}")
async def get_application(app_id: uuid.UUID, caller: Caller = Depends(current_caller),
                          backend: Backend = Depends(get_backend)) -> dict[str, Any]:
    """One application: its status, whether its wallet is verified, and its history; for
    admins also `answers`, every raw Typeform answer by field ref."""
    row = await load(backend, app_id)
    is_admin = await reader_is_admin(backend, caller, row)
    history = await backend.db.fetch(
        "SELECT action, from_status, to_status, actor, note, at FROM application_events "
        "WHERE application = %s ORDER BY id", (app_id,))
    detail = {**present(backend, row), "history": history}
    if is_admin:
        detail["answers"] = await raw_answers(backend, app_id)
    return detail


@router.post("/{app_id}/claim")
async def claim(app_id: uuid.UUID, caller: Caller = Depends(current_caller),
                backend: Backend = Depends(get_backend)) -> dict[str, Any]:
    """The applicant signs in with the typed wallet: the application's wallet is verified."""
    row = await load(backend, app_id)
    if row["wallet_address"].lower() != caller.address.lower():
        raise HTTPException(403, f"signed-in wallet {caller.address} is not this application's "
                                 f"wallet {row['wallet_address']}")
    if row["wallet_verified"]:
        return present(backend, row)
    async with backend.db.transaction() as conn:
        row = await (await conn.execute(
            apps.query("UPDATE applications SET wallet_verified = true, updated_at = now() "
                       "WHERE id = %s RETURNING {columns}"), (app_id,))).fetchone()
        await apps.record(conn, app_id, "wallet_verified", row["status"], row["status"],
                          caller.address, "wallet confirmed by SIWE sign-in")
    return present(backend, row)


async def transition(backend: Backend, app_id: uuid.UUID, action: str, allowed: tuple[str, ...],
                     to_status: str, actor: str, note: str) -> dict[str, Any]:
    async with backend.db.transaction() as conn:
        await apps.reconcile_minted(conn, backend.mirror_key)
        row = await (await conn.execute(
            apps.query("SELECT {columns} FROM applications WHERE id = %s FOR UPDATE"),
            (app_id,))).fetchone()
        if row is None:
            raise HTTPException(404, f"no application {app_id}")
        if row["status"] not in allowed:
            raise HTTPException(409, f"cannot {action} an application that is {row['status']}")
        if action == "approve" and not row["wallet_verified"]:
            raise HTTPException(409, "the applicant has not confirmed the wallet by signing in "
                                     "(POST /applications/{id}/claim)")
        from_status = row["status"]
        row = await (await conn.execute(
            apps.query("UPDATE applications SET status = %s, review_note = %s, "
                       "updated_at = now() WHERE id = %s RETURNING {columns}"),
            (to_status, note, app_id))).fetchone()
        await apps.record(conn, app_id, action, from_status, to_status, actor, note)
    return row


@router.post("/{app_id}/approve")
async def approve(app_id: uuid.UUID, body: ReviewIn, caller: Caller = Depends(require_minter),
                  backend: Backend = Depends(get_backend)) -> dict[str, Any]:
    """MINTER holders: approve; answers the exact mint transaction for the admin's wallet."""
    row = await transition(backend, app_id, "approve", ("pending",), "approved", caller.address,
                           body.note)
    return present(backend, row)


@router.post("/{app_id}/reject")
async def reject(app_id: uuid.UUID, body: ReviewIn, caller: Caller = Depends(require_admin),
                 backend: Backend = Depends(get_backend)) -> dict[str, Any]:
    """Admins: reject a pending or approved (not yet minted) application, with a note."""
    row = await transition(backend, app_id, "reject", ("pending", "approved"), "rejected",
                           caller.address, body.note)
    return present(backend, row)
