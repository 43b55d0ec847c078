"""`POST /applications/approve-batch`: MINTER holders approve many applications and the
server-side minter (off by default: 409) signs and sends their mint transactions.

The answer is 200 with one result per application: a transaction hash, or a 4xx status and
the reason. Applications become `minted` only when the indexer sees their LicenseMinted."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from eth_abi.exceptions import DecodingError
from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from backend import applications as apps
from backend.application_routes import load, require_minter, transition
from backend.authz import Caller
from backend.chain import ChainUnavailable
from backend.context import Backend, get_backend
from backend.minter import Minter, MintFailed

router = APIRouter(prefix="/applications", tags=["applications"])
log = logging.getLogger("noderr.backend.minter")
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


async def ready_minter(backend: Backend) -> Minter:
    """The server-side minter, if it is on and holds MINTER_ROLE on-chain (409 otherwise)."""
    minter = backend.minter
    if minter is None:
        raise HTTPException(409, "server-side minter is off: set NODERR_MINTER_KEYSTORE and "
                                 "NODERR_MINTER_PASSWORD_FILE, or approve one by one and sign "
                                 "the mint transactions with your wallet")
    try:
        granted = await minter.has_minter_role(backend.chain, backend.license_address)
    except (ChainUnavailable, DecodingError) as error:
        raise HTTPException(503, f"cannot check the minter's role on-chain: {error}") from None
    if not granted:
        raise HTTPException(409, f"the server-side minter {minter.address} does not hold "
                                 "MINTER_ROLE on NodeLicense: grant it first")
    return minter


async def approved_row(backend: Backend, app_id: uuid.UUID, caller: Caller,
                       note: str) -> dict[str, Any]:
    """The application approved (now, or earlier and no mint sent yet); HTTPException if not."""
    row = await load(backend, app_id)
    if row["status"] == "approved":
        await no_mint_sent(backend, app_id)
        return row
    return await transition(backend, app_id, "approve", ("pending",), "approved",
                            caller.address, note)


async def no_mint_sent(backend: Backend, app_id: uuid.UUID) -> None:
    sent = await backend.db.fetch_one(
        "SELECT note FROM application_events WHERE application = %s AND action = 'mint_sent' "
        "ORDER BY id DESC LIMIT 1", (app_id,))
    if sent is not None:
        raise HTTPException(409, f"{sent['note']}; wait for the indexer to see it (or, if it "
                                 "was dropped, send the application's mint_transaction from "
                                 "a MINTER wallet)")


async def record_sent(backend: Backend, app_id: str, actor: str, minter: str,
                      tx_hash: str) -> None:
    async with backend.db.transaction() as conn:
        await apps.record(conn, uuid.UUID(app_id), "mint_sent", "approved", "approved", actor,
                          f"mint sent by the server-side minter {minter} in transaction "
                          f"{tx_hash}")


@router.post("/approve-batch", response_model=BatchOut)
async def approve_batch(body: BatchIn, caller: Caller = Depends(require_minter),
                        backend: Backend = Depends(get_backend)) -> BatchOut:
    """MINTER holders: approve each application and send its mint from the server-side
    minter (409 when it is off or lacks MINTER_ROLE). One result per id, in order."""
    minter = await ready_minter(backend)
    ids = list(dict.fromkeys(body.ids))
    async with minter.lock, backend.db.transaction() as held:
        # One batch at a time per minter account, across every API process (uvicorn workers,
        # replicas) sharing this database: no mint sent twice, nonces in sequence.
        await held.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                           (f"noderr-minter:{minter.address}",))
        results = await _approve_and_send(backend, caller, minter, ids, body.note)
    return BatchOut(minter=minter.address, results=[results[str(app_id)] for app_id in ids])


async def _approve_and_send(backend: Backend, caller: Caller, minter: Minter,
                            ids: list[uuid.UUID], note: str) -> dict[str, ItemOut]:
    results: dict[str, ItemOut] = {}
    rows: list[dict[str, Any]] = []
    for app_id in ids:
        try:
            rows.append(await approved_row(backend, app_id, caller, note))
        except HTTPException as refused:
            results[str(app_id)] = ItemOut(id=str(app_id), status=refused.status_code,
                                           detail=refused.detail)
    transactions = [apps.mint_transaction(backend.license_address, backend.chain_id, row)
                    for row in rows]
    sent = await minter.send_all(backend.chain, backend.chain_id, transactions)
    for row, outcome in zip(rows, sent, strict=True):
        results[str(row["id"])] = await _outcome(backend, caller, minter, row, outcome)
    return results


async def _outcome(backend: Backend, caller: Caller, minter: Minter, row: dict[str, Any],
                   outcome: str | MintFailed) -> ItemOut:
    app_id = str(row["id"])
    if isinstance(outcome, MintFailed):
        log.warning("server-side mint of application %s failed: %s", app_id, outcome)
        return ItemOut(id=app_id, status=409, detail=str(outcome))
    await record_sent(backend, app_id, caller.address, minter.address, outcome)
    log.info("server-side mint of application %s sent: %s", app_id, outcome)
    return ItemOut(id=app_id, status=200, tx_hash=outcome)
