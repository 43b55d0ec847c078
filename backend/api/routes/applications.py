"""`/applications`: apply, claim a wallet by SIWE, (admins) list, approve, reject, and
(validators) the approved Validator applications awaiting a governance proposal."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from backend import applications as apps
from backend.api.deps import (
    AdminCaller,
    BackendDep,
    MinterCaller,
    SignedInCaller,
    license_gate,
)
from backend.api.openapi import signed_in
from backend.api.rate_limits import APPLICATIONS, rate_limited
from backend.caller import Caller
from noderr.domain import NodeType

router = APIRouter(prefix="/applications", tags=["applications"])


class ReviewIn(BaseModel):
    note: str = Field(min_length=1, max_length=1000, description="Why; shown in the history.")


@router.post("", status_code=201, dependencies=[Depends(rate_limited(APPLICATIONS))],
             **signed_in())
async def apply(body: apps.ApplicationIn, caller: SignedInCaller,
                backend: BackendDep) -> dict[str, Any]:
    """Apply as the signed-in wallet (its address is verified by the session)."""
    return await apps.apply(backend, caller, body)


@router.get("", **signed_in())
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


@router.get("/awaiting-admission", **signed_in())
async def awaiting_admission(
    _: Annotated[Caller, Depends(license_gate(NodeType.VALIDATOR))], backend: BackendDep,
) -> list[dict[str, Any]]:
    """Active validators: approved Validator applications not yet minted, each with its
    `proposal_transaction` (the governor's `propose` of the mint) for the validator's wallet
    to send; the fields are `id`, `application_id`, `applicant_name`, `wallet_address`,
    `region`, `review_note`, `updated_at` and `proposal_transaction`."""
    return await apps.awaiting_admission(backend)


@router.get("/{app_id}", **signed_in(404))
async def get_application(app_id: uuid.UUID, caller: SignedInCaller,
                          backend: BackendDep) -> dict[str, Any]:
    """One application: its status, whether its wallet is verified, and its history; for
    admins also `answers`, every raw Typeform answer by field ref."""
    return await apps.detail(backend, caller, app_id)


@router.post("/{app_id}/claim", **signed_in(404, 409))
async def claim(app_id: uuid.UUID, caller: SignedInCaller, backend: BackendDep
                ) -> dict[str, Any]:
    """The applicant signs in with the typed wallet: the application's wallet is verified."""
    return await apps.claim(backend, caller, app_id)


@router.post("/{app_id}/approve", **signed_in(404, 409))
async def approve(app_id: uuid.UUID, body: ReviewIn, caller: MinterCaller,
                  backend: BackendDep) -> dict[str, Any]:
    """MINTER holders: approve. An Oracle or Guardian application answers
    `mint_transaction`, the exact mint for a MINTER wallet to send. A Validator application
    answers `proposal_transaction` instead (and no `mint_transaction`): the governor's
    `propose` of that mint through the timelock, for a validator's wallet to send, with its
    `description` naming the application id; the license is minted when the proposal
    passes, is queued and executed."""
    return await apps.review(backend, caller, app_id, apps.APPROVE, body.note)


@router.post("/{app_id}/reject", **signed_in(404, 409))
async def reject(app_id: uuid.UUID, body: ReviewIn, caller: AdminCaller,
                 backend: BackendDep) -> dict[str, Any]:
    """Admins: reject a pending or approved (not yet minted) application, with a note."""
    return await apps.review(backend, caller, app_id, apps.REJECT, body.note)
