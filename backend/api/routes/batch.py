"""`POST /applications/approve-batch`: MINTER holders approve many applications and the
server-side minter (off by default: 409) signs and sends their mint transactions.

The answer is 200 with one result per application: a transaction hash, or a 4xx status and
the reason. Applications become `minted` only when the indexer sees their LicenseMinted."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from pydantic import BaseModel, Field

from backend.api.deps import BackendDep, MinterCaller
from backend.api.errors import status_of
from backend.api.openapi import signed_in
from backend.batch_mint import Outcome, approve_and_mint

router = APIRouter(prefix="/applications", tags=["applications"])
MAX_BATCH = 50


class BatchIn(BaseModel):
    ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_BATCH,
                                 description=f"Applications to approve and mint (≤ {MAX_BATCH}).")
    note: str = Field(min_length=1, max_length=1000, description="Why; shown in each history.")


class ItemOut(BaseModel):
    id: str
    status: int = Field(description="200 when the mint transaction was sent, else a 4xx.")
    tx_hash: str | None = None
    detail: str | None = None


class BatchOut(BaseModel):
    minter: str
    results: list[ItemOut]


@router.post("/approve-batch", response_model=BatchOut, **signed_in(409))
async def approve_batch(body: BatchIn, caller: MinterCaller, backend: BackendDep) -> BatchOut:
    """MINTER holders: approve each application and send its mint from the server-side
    minter (409 when it is off or lacks MINTER_ROLE). One result per id, in order; a
    Validator application gets a 409 (only governance mints Validator licenses)."""
    minter, outcomes = await approve_and_mint(backend, caller, body.ids, body.note)
    return BatchOut(minter=minter.address,
                    results=[item(app_id, outcome) for app_id, outcome in outcomes.items()])


def item(app_id: uuid.UUID, outcome: Outcome) -> ItemOut:
    if isinstance(outcome, str):
        return ItemOut(id=str(app_id), status=200, tx_hash=outcome)
    return ItemOut(id=str(app_id), status=status_of(outcome), detail=outcome.message)
