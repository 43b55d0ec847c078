"""The validators' consensus rounds: `POST /nodes/rounds`, what a validator node decided
(active Validator license only), and `GET /network/rounds`, every reported round with what
the chain says of it, for anyone (rate-limited per client, NODERR_RATE_LIMIT_PUBLIC; at most
MAX_PAGE rows, each filter with an index: migration 0008_consensus_rounds)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from backend import rounds
from backend.api.cursor import decode_time_cursor, encode_time_cursor
from backend.api.deps import BackendDep, SignedInCaller
from backend.api.openapi import signed_in
from backend.api.rate_limits import PUBLIC, rate_limited

router = APIRouter()
public = APIRouter(dependencies=[Depends(rate_limited(PUBLIC))])
MAX_PAGE = 1000
ADDRESS = r"^0x[0-9a-fA-F]{40}$"
Status = Literal["agreed", "transmitted", "failed"]


class Stored(BaseModel):
    stored: int


class RoundItem(BaseModel):
    """One validator's report of a round. `value`, `observed_at` and `signers` are the
    on-chain report's once `status` is `transmitted` (the feed's Transmitted event is indexed:
    `transmit_tx_hash`, `transmitter`, `block_number`, and whether the reporter's answer and
    observation time agree with it); before, the reporter's."""

    id: int
    feed: str
    feed_address: str
    round: int
    view: int | None
    view_changes: int | None
    leader: str | None
    value: str
    observed_at: int
    signers: list[str]
    status: Status
    reported_status: Status
    reported_by: str
    decided_at: datetime
    recorded_at: datetime
    transmit_tx_hash: str | None
    transmitter: str | None
    block_number: int | None
    agrees_with_chain: bool | None


class RoundPage(BaseModel):
    """Newest first; pass `next_cursor` on for older rounds (null: the last page)."""

    items: list[RoundItem]
    next_cursor: str | None


@router.post("/nodes/rounds", tags=["nodes"], **signed_in(409))
async def report_rounds(batch: rounds.RoundBatch, caller: SignedInCaller,
                        backend: BackendDep) -> Stored:
    """Rounds the caller's validator decided (an active Validator license now), 1 to 100,
    stored all or none; posting one again stores nothing new, and may only advance its status
    and signers. 422 names a feed the deployment lacks or a round named twice; 409 when a
    stored round's view, leader, answer or observation time differs."""
    try:
        return Stored(stored=await rounds.record(backend, caller, batch))
    except rounds.BadRound as error:
        raise RequestValidationError([{"loc": ("body", "rounds", error.index),
                                       "msg": error.message, "type": "value_error"}]) from None


@public.get("/network/rounds", tags=["network"])
async def list_rounds(
    backend: BackendDep,
    feed: str | None = Query(None, pattern=r"^[A-Z0-9_]{1,16}$"),
    status: Status | None = None,
    from_round: int | None = Query(None, ge=1, le=rounds.UINT32_MAX),
    to_round: int | None = Query(None, ge=1, le=rounds.UINT32_MAX),
    leader: str | None = Query(None, pattern=ADDRESS, description="The deciding view's leader."),
    limit: int = Query(100, ge=1, le=MAX_PAGE),
    cursor: str | None = Query(None, max_length=100),
) -> RoundPage:
    """The validators' reports of consensus rounds, newest first, filtered; cursor
    pagination. A round is `transmitted` once the chain's Transmitted event is indexed, else
    `failed` if its reporter said so, else `agreed`."""
    before = decode_time_cursor(cursor) if cursor is not None else None
    rows = await rounds.rounds(backend.db, backend.chain_id, {
        "feed": feed, "status": status, "from_round": from_round, "to_round": to_round,
        "leader": leader}, before, limit + 1)
    items = [RoundItem(**row) for row in rows[:limit]]
    last = items[-1] if len(rows) > limit else None
    return RoundPage(items=items, next_cursor=encode_time_cursor(last.recorded_at, last.id)
                     if last else None)


router.include_router(public)
