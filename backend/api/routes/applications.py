"""`/applications`: apply, claim a wallet by SIWE, and (admins) list, approve, reject."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from backend import applications as apps
from backend.api.deps import AdminCaller, BackendDep, MinterCaller, SignedInCaller
from backend.api.rate_limits import APPLICATIONS, rate_limited

router = APIRouter(prefix="/applications", tags=["applications"])


class ReviewIn(BaseModel):
    note: str = Field(min_length=1, max_length=1000, description="Why; shown in the history.")


@router.post("", status_code=201, dependencies=[Depends(rate_limited(APPLICATIONS))])
async def apply(body: apps.ApplicationIn, caller: SignedInCaller,
                backend: BackendDep) -> dict[str, Any]:
    """Apply as the signed-in wallet (its address is verified by the session)."""
    return await apps.apply(backend, caller, body)


@router.get("")
async def list_applications(
    _: AdminCaller,
    backend: BackendDep,
    status: apps.Status | None = None,
    node_type: int | None = Query(None, ge=1, le=3),
    wallet: str | None = Query(None, max_length=42),
    verified: bool | None = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> list[dict[str, Any]]:
    """Admins (MINTER or REVOKER holders): applications, newest first, filtered."""
    return await apps.search(backend, status, node_type, wallet, verified, limit, offset)


@router.get("/{app_id}")
async def get_application(app_id: uuid.UUID, caller: SignedInCaller,
                          backend: BackendDep) -> dict[str, Any]:
    """One application: its status, whether its wallet is verified, and its history; for
    admins also `answers`, every raw Typeform answer by field ref."""
    return await apps.detail(backend, caller, app_id)


@router.post("/{app_id}/claim")
async def claim(app_id: uuid.UUID, caller: SignedInCaller, backend: BackendDep
                ) -> dict[str, Any]:
    """The applicant signs in with the typed wallet: the application's wallet is verified."""
    return await apps.claim(backend, caller, app_id)


@router.post("/{app_id}/approve")
async def approve(app_id: uuid.UUID, body: ReviewIn, caller: MinterCaller,
                  backend: BackendDep) -> dict[str, Any]:
    """MINTER holders: approve; answers the exact mint transaction for the admin's wallet."""
    return await apps.review(backend, caller, app_id, apps.APPROVE, body.note)


@router.post("/{app_id}/reject")
async def reject(app_id: uuid.UUID, body: ReviewIn, caller: AdminCaller,
                 backend: BackendDep) -> dict[str, Any]:
    """Admins: reject a pending or approved (not yet minted) application, with a note."""
    return await apps.review(backend, caller, app_id, apps.REJECT, body.note)
