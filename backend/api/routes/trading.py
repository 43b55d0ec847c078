"""`/trading/*`: what a PAPER trading desk records (license-gated) and what anyone may read
back (positions, orders, the equity curve); and `/network/guard`, the emergency halt as the
mirror shows it, which desks and nodes obey. The public reads are rate-limited per client
(NODERR_RATE_LIMIT_PUBLIC) and answer at most MAX_PAGE rows, each filter with an index
(migration 0007_trading)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from backend import trading
from backend.api.cursor import decode_time_cursor, encode_time_cursor
from backend.api.deps import BackendDep, SignedInCaller
from backend.api.openapi import problems, signed_in
from backend.api.rate_limits import PUBLIC, rate_limited

router = APIRouter()
public = APIRouter(dependencies=[Depends(rate_limited(PUBLIC))])
MAX_PAGE = 1000
ADDRESS = r"^0x[0-9a-fA-F]{40}$"
RUN_ID = r"^[\x21-\x7e]{1,64}$"


class RecordCounts(BaseModel):
    """How many records of each kind the batch stored."""

    orders: int
    rejections: int
    fills: int
    equity_points: int


class PositionItem(BaseModel):
    """A run's open position in one instrument, by average cost of its fills."""

    desk: str
    run_id: str
    instrument: str
    quantity: str
    average_price: str
    cost: str
    realized_pnl: str
    fills: int
    last_fill_at: datetime


class Rejection(BaseModel):
    check: str
    value: float | None
    limit: float | None
    reason: str
    at: datetime


class OrderItem(BaseModel):
    id: int
    desk: str
    run_id: str
    order_id: str
    instrument: str
    side: Literal["buy", "sell"]
    order_type: Literal["market", "limit"]
    time_in_force: Literal["IOC", "GTC"]
    quantity: str
    limit_price: str | None
    created_at: datetime
    filled_quantity: str
    status: Literal["sent", "partially_filled", "filled", "rejected"]
    rejection: Rejection | None


class OrderPage(BaseModel):
    """Newest first; pass `next_cursor` on for older orders (null: the last page)."""

    items: list[OrderItem]
    next_cursor: str | None


class EquityPoint(BaseModel):
    id: int
    desk: str
    run_id: str
    at: datetime
    cash: str
    market_value: str
    equity: str
    realized_pnl: str
    unrealized_pnl: str
    fees: str


class GuardState(BaseModel):
    """NodeGuard at `indexed_block`: `nonce` is its halt_nonce (accepted halts so far, the
    nonce the next halt is signed with); `block`/`since` those of its last halt or resume
    (null: never); `reason`/`signers` those of the halt in force."""

    guard: str
    halted: bool
    nonce: int
    reason: str | None
    signers: list[str]
    block: int | None
    since: datetime | None
    indexed_block: int | None


@router.post("/trading/records", tags=["trading"], **signed_in(409))
async def records(batch: trading.RecordBatch, caller: SignedInCaller,
                  backend: BackendDep) -> RecordCounts:
    """PAPER trading records of the caller's desk (any active license): 1 to 500 orders,
    fills, refusals and equity points of one run, stored all or none. 422 names the first
    record the batch or the run's stored records contradict (a fill without its order, of a
    refused order, of another instrument or side, or past the order's quantity); 409 when a
    record is already stored (an order id, an equity point's time)."""
    try:
        return RecordCounts(**await trading.record(backend, caller, batch))
    except trading.BadRecord as error:
        raise RequestValidationError([{"loc": ("body", "records", error.index),
                                       "msg": error.message, "type": "value_error"}]) from None


@public.get("/trading/positions", tags=["trading"])
async def positions(
    backend: BackendDep,
    desk: str | None = Query(None, pattern=ADDRESS, description="The desk's node address."),
    run: str | None = Query(None, pattern=RUN_ID),
    limit: int = Query(MAX_PAGE, ge=1, le=MAX_PAGE),
) -> list[PositionItem]:
    """PAPER trading (simulated fills). Open positions by desk, run and instrument, as
    their fills make them (average cost)."""
    return [PositionItem(**row) for row in await trading.positions(backend.db, desk, run,
                                                                   limit)]


@public.get("/trading/orders", tags=["trading"])
async def orders(
    backend: BackendDep,
    desk: str | None = Query(None, pattern=ADDRESS, description="The desk's node address."),
    instrument: str | None = Query(None, pattern=r"^[A-Za-z0-9_.:/-]{1,32}$"),
    status: Literal["sent", "partially_filled", "filled", "rejected"] | None = None,
    limit: int = Query(100, ge=1, le=MAX_PAGE),
    cursor: str | None = Query(None, max_length=100),
) -> OrderPage:
    """PAPER trading (simulated fills). Orders of every desk, sent or refused, newest
    first, filtered; cursor pagination."""
    before = decode_time_cursor(cursor) if cursor is not None else None
    rows = await trading.orders(
        backend.db, {"desk": desk, "instrument": instrument, "status": status}, before,
        limit + 1)
    items = [OrderItem(**row) for row in rows[:limit]]
    last = items[-1] if len(rows) > limit else None
    return OrderPage(items=items,
                     next_cursor=encode_time_cursor(last.created_at, last.id) if last else None)


@public.get("/trading/pnl", tags=["trading"])
async def pnl(
    backend: BackendDep,
    desk: str | None = Query(None, pattern=ADDRESS, description="The desk's node address."),
    run: str | None = Query(None, pattern=RUN_ID),
    limit: int = Query(MAX_PAGE, ge=1, le=MAX_PAGE),
) -> list[EquityPoint]:
    """PAPER trading (simulated fills). The equity curve: its latest `limit` points,
    oldest first (equity = cash + market_value; equity - initial cash = realized +
    unrealized - fees)."""
    return [EquityPoint(**row) for row in await trading.pnl(backend.db, desk, run, limit)]


@public.get("/network/guard", tags=["network"], responses=problems(404))
async def guard(backend: BackendDep) -> GuardState:
    """Whether the network is halted: NodeGuard's last Halted or Resumed event in the
    mirror, at its indexed block. Desks refuse every new order while `halted`; 404 when the
    deployment has no NodeGuard."""
    return GuardState(**await trading.guard(backend))


router.include_router(public)
