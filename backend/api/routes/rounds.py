"""The validators' consensus rounds and messages: `POST /nodes/rounds`, what a validator node
decided, and `POST /nodes/consensus-messages`, every consensus message it signed or received
(active Validator license only); `GET /network/rounds`, every reported round with what the
chain says of it, and `GET /network/rounds/{feed}/{round}/messages`, a round's messages, for
anyone (rate-limited per client, NODERR_RATE_LIMIT_PUBLIC; at most MAX_PAGE rows, each filter
with an index: migrations 0008_consensus_rounds, 0009_consensus_messages)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from backend import consensus_messages, rounds
from backend.api.cursor import decode_time_cursor, encode_time_cursor
from backend.api.deps import BackendDep, SignedInCaller
from backend.api.openapi import signed_in
from backend.api.rate_limits import PUBLIC, rate_limited

router = APIRouter()
public = APIRouter(dependencies=[Depends(rate_limited(PUBLIC))])
MAX_PAGE = 1000
ADDRESS = r"^0x[0-9a-fA-F]{40}$"
Status = Literal["agreed", "transmitted", "failed"]
Phase = Literal["pre_prepare", "prepare", "commit", "view_change", "new_view", "decided"]
FEED = r"^[A-Z0-9_]{1,16}$"


class Stored(BaseModel):
    stored: int


class ViewChangeSeen(BaseModel):
    """Validators that asked for `view` of the round, as the row's reporter saw them."""

    view: int
    senders: list[str]


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
    view_changes_seen: list[ViewChangeSeen]


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
    feed: str | None = Query(None, pattern=FEED),
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


class MessageItem(BaseModel):
    """One consensus message as a validator reported it: its signed `text` and `signature`
    (sha256 over the chain's consensus domain and the text, `signed_digest`, recovers to
    `sender`: checked before it was stored), the fields read from that text, and whether
    `reported_by` sent or received it, and when."""

    id: int
    feed: str
    round: int
    view: int | None
    phase: Phase
    sender: str
    digest: str | None
    signed_digest: str
    signature: str
    text: str
    reported_by: str
    direction: Literal["sent", "received"]
    seen_at: datetime
    recorded_at: datetime


class MessagePage(BaseModel):
    """Newest first; pass `next_cursor` on for older messages (null: the last page)."""

    items: list[MessageItem]
    next_cursor: str | None


@router.post("/nodes/consensus-messages", tags=["nodes"], **signed_in())
async def report_messages(batch: consensus_messages.MessageBatch, caller: SignedInCaller,
                          backend: BackendDep) -> Stored:
    """Consensus messages the caller's validator signed or received (an active Validator
    license now), 1 to 200, stored all or none; `stored` counts the new ones (posting one
    again stores nothing). 422 names a message that is malformed, of a feed the deployment
    lacks, not signed by the sender its text names, of a round more than 1,000 from the feed's
    latest round on chain, or of a round that would hold more than 256 messages of this
    reporter."""
    try:
        return Stored(stored=await consensus_messages.record(backend, caller, batch))
    except consensus_messages.BadMessage as error:
        raise RequestValidationError([{"loc": ("body", "messages", error.index),
                                       "msg": error.message, "type": "value_error"}]) from None


@public.get("/network/rounds/{feed}/{round_number}/messages", tags=["network"])
async def list_messages(
    backend: BackendDep,
    feed: str = Path(pattern=FEED),
    round_number: int = Path(ge=1, le=rounds.UINT32_MAX),
    phase: Phase | None = None,
    view: int | None = Query(None, ge=0, le=consensus_messages.MAX_VIEW),
    sender: str | None = Query(None, pattern=ADDRESS),
    reporter: str | None = Query(None, pattern=ADDRESS, description="The reporting validator."),
    limit: int = Query(100, ge=1, le=MAX_PAGE),
    cursor: str | None = Query(None, max_length=100),
) -> MessagePage:
    """The consensus messages of one round of a feed, as the validators reported them, newest
    first, filtered; cursor pagination."""
    before = decode_time_cursor(cursor) if cursor is not None else None
    rows = await consensus_messages.messages(backend.db, feed, round_number, {
        "phase": phase, "view": view, "sender": sender, "reporter": reporter}, before,
        limit + 1)
    items = [MessageItem(**row) for row in rows[:limit]]
    last = items[-1] if len(rows) > limit else None
    return MessagePage(items=items, next_cursor=encode_time_cursor(last.recorded_at, last.id)
                       if last else None)


router.include_router(public)
