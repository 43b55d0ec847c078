"""The PAPER trading desk's records as the backend keeps them, and the emergency halt as the
mirror shows it.

- A desk (a node holding any active license) posts its records in batches: the orders it
  sent, the fills they got, the orders refused before the venue (with the failing check and
  its numbers) and the points of its equity curve, tagged with its run id. A batch is checked
  whole against itself and against the run's stored records (a fill needs its order, sent not
  refused, of the same instrument and side, and cannot fill past its quantity) and stored in
  one transaction, or refused naming its first bad record.
- Positions are derived from the fills as they are stored, by average cost, as the desk's
  portfolio books them (node/desk/portfolio.py): a fill that grows a position adds to its
  cost; one that shrinks it removes the closed share of the cost and books the difference as
  realized P&L; one that crosses zero opens the rest at the fill's price. Fills apply in the
  order they are stored (batches of one run are serialized by a lock on the run).
- The halt: NodeGuard's last `Halted` or `Resumed` in the mirror, at the indexed block."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Context, Decimal
from typing import Annotated, Any, Literal

import psycopg
from eth_utils import to_checksum_address
from psycopg import sql
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from backend import authz, mirror
from backend.caller import Caller
from backend.context import Backend
from backend.database import Database
from backend.errors import Conflict, NotFound, Refused
from noderr.halt_report import GUARD_CONTRACT

Row = dict[str, Any]
Side = Literal["buy", "sell"]
OrderType = Literal["market", "limit"]
OrderStatus = Literal["sent", "partially_filled", "filled", "rejected"]
MAX_RECORDS = 500
TIME_IN_FORCE = {"market": "IOC", "limit": "GTC"}
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
CLOCK_SKEW = timedelta(days=1)
EXACT = Context(prec=80)
"""Products and sums of the desk's amounts (8 places, 60 digits at most) stay exact."""
PRICE_STEP = Decimal("1E-8")
ZERO = Decimal(0)

Amount = Annotated[Decimal, Field(allow_inf_nan=False, max_digits=60, decimal_places=18,
                                  description="A decimal string (or number), exact.")]
Positive = Annotated[Decimal, Field(gt=0, allow_inf_nan=False, max_digits=60, decimal_places=18,
                                    description="A decimal string (or number) above zero.")]
NonNegative = Annotated[Decimal, Field(ge=0, allow_inf_nan=False, max_digits=60,
                                       decimal_places=18)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
Identifier = Annotated[str, Field(pattern=r"^[\x21-\x7e]{1,64}$",
                                  description="1 to 64 printable ASCII characters, no space.")]
Instrument = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:/-]{1,32}$")]


def plausible(value: datetime) -> datetime:
    if value < EARLIEST or value > datetime.now(UTC) + CLOCK_SKEW:
        raise ValueError("not between 1970 and a day ahead of the server's clock")
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrderFields(Strict):
    """An order as node.desk.records.Order.to_dict() writes it."""

    id: Identifier
    instrument: Instrument
    side: Side
    quantity: Positive
    created_at: AwareDatetime
    order_type: OrderType
    time_in_force: Literal["IOC", "GTC"]
    limit_price: Positive | None = None

    @model_validator(mode="after")
    def _consistent(self) -> OrderFields:
        plausible(self.created_at)
        if self.time_in_force != TIME_IN_FORCE[self.order_type]:
            raise ValueError(f"a {self.order_type} order is "
                             f"{TIME_IN_FORCE[self.order_type]}, not {self.time_in_force}")
        if (self.order_type == "limit") != (self.limit_price is not None):
            raise ValueError("a limit order, and only one, has a limit_price")
        return self


class OrderRecord(OrderFields):
    """An order the desk sent to its venue."""

    kind: Literal["order"]


class FillRecord(Strict):
    """A fill of an order of the same run (node.desk.records.Fill.to_dict())."""

    kind: Literal["fill"]
    order_id: Identifier
    instrument: Instrument
    side: Side
    quantity: Positive
    price: Positive
    fee: NonNegative
    notional: Amount | None = Field(None, description="quantity * price, exactly, if given.")
    at: AwareDatetime

    @model_validator(mode="after")
    def _consistent(self) -> FillRecord:
        plausible(self.at)
        if self.notional is not None and self.notional != EXACT.multiply(self.quantity,
                                                                         self.price):
            raise ValueError("notional is not quantity * price")
        return self


class RejectionRecord(Strict):
    """An order refused before the venue: the check that failed and the numbers it compared
    (null where the check produced none)."""

    kind: Literal["rejection"]
    order: OrderFields
    check: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    value: Finite | None
    limit: Finite | None
    reason: str = Field(min_length=1, max_length=500)
    at: AwareDatetime

    @model_validator(mode="after")
    def _plausible(self) -> RejectionRecord:
        plausible(self.at)
        return self


class EquityRecord(Strict):
    """A point of the equity curve: equity = cash + market_value, exactly."""

    kind: Literal["equity"]
    at: AwareDatetime
    cash: Amount
    market_value: Amount
    equity: Amount
    realized_pnl: Amount
    unrealized_pnl: Amount
    fees: NonNegative

    @model_validator(mode="after")
    def _consistent(self) -> EquityRecord:
        plausible(self.at)
        if self.equity != EXACT.add(self.cash, self.market_value):
            raise ValueError("equity is not cash + market_value")
        return self


TradingRecord = Annotated[OrderRecord | FillRecord | RejectionRecord | EquityRecord,
                          Field(discriminator="kind")]


class RecordBatch(Strict):
    """POST /trading/records: records of one run of the caller's desk, stored all or none."""

    run_id: Identifier
    records: list[TradingRecord] = Field(min_length=1, max_length=MAX_RECORDS)


class BadRecord(Refused):
    """A record the batch or the run's stored records contradict; `index` is its place."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index


# what a batch does to the run
@dataclasses.dataclass
class OrderState:
    instrument: str
    side: str
    quantity: Decimal
    filled: Decimal
    rejected: bool
    stored: bool

    @property
    def status(self) -> OrderStatus:
        if self.rejected:
            return "rejected"
        if self.filled == self.quantity:
            return "filled"
        return "partially_filled" if self.filled > ZERO else "sent"


@dataclasses.dataclass
class Position:
    quantity: Decimal = ZERO
    cost: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    fills: int = 0
    last_fill_at: datetime | None = None

    def apply(self, fill: FillRecord) -> None:
        """Book a fill by average cost (the module docstring)."""
        signed = fill.quantity if fill.side == "buy" else -fill.quantity
        self.fills += 1
        self.last_fill_at = fill.at
        if self.quantity == ZERO or (self.quantity > ZERO) == (signed > ZERO):
            self.quantity = EXACT.add(self.quantity, signed)
            self.cost = EXACT.add(self.cost, EXACT.multiply(signed, fill.price))
            return
        closed = min(abs(signed), abs(self.quantity))
        removed = (self.cost if closed == abs(self.quantity)
                   else EXACT.divide(EXACT.multiply(self.cost, closed), abs(self.quantity)))
        proceeds = EXACT.multiply(EXACT.multiply(closed, fill.price),
                                  1 if self.quantity > ZERO else -1)
        self.realized_pnl = EXACT.add(self.realized_pnl, EXACT.subtract(proceeds, removed))
        quantity = EXACT.add(self.quantity, signed)
        self.cost = (EXACT.subtract(self.cost, removed) if abs(signed) <= abs(self.quantity)
                     else EXACT.multiply(quantity, fill.price))
        self.quantity = quantity


@dataclasses.dataclass
class Plan:
    orders: dict[str, OrderState]
    positions: dict[str, Position]
    new_orders: list[OrderFields]
    rejections: list[RejectionRecord]
    fills: list[FillRecord]
    points: list[EquityRecord]

    def counts(self) -> dict[str, int]:
        return {"orders": len(self.new_orders) - len(self.rejections),
                "rejections": len(self.rejections), "fills": len(self.fills),
                "equity_points": len(self.points)}


def plan(batch: RecordBatch, orders: dict[str, OrderState], positions: dict[str, Position],
         stored_points: set[datetime]) -> Plan:
    """What storing `batch` does, given the run's stored orders and positions (of the
    batch's order ids and instruments) and equity point times; BadRecord or Conflict naming
    the first record that cannot be stored. Orders and refusals are taken first, so a fill
    may come before its order in the batch."""
    result = Plan(orders, positions, [], [], [], [])
    for index, record in enumerate(batch.records):
        if isinstance(record, OrderRecord | RejectionRecord):
            order = record if isinstance(record, OrderRecord) else record.order
            _claim(result.orders, index, order, isinstance(record, RejectionRecord))
            result.new_orders.append(order)
            if isinstance(record, RejectionRecord):
                result.rejections.append(record)
    points = set(stored_points)
    for index, record in enumerate(batch.records):
        if isinstance(record, FillRecord):
            _fill(result, index, record)
        elif isinstance(record, EquityRecord):
            if record.at in points:
                where = "already stored" if record.at in stored_points else "twice in the batch"
                raise _duplicate(index, where, f"equity point at {record.at.isoformat()}")
            points.add(record.at)
            result.points.append(record)
    return result


def _duplicate(index: int, where: str, what: str) -> Refused:
    if where == "already stored":
        return Conflict(f"records[{index}]: {what} of this run is already stored")
    return BadRecord(index, f"{what} appears twice in the batch")


def _claim(orders: dict[str, OrderState], index: int, order: OrderFields,
           rejected: bool) -> None:
    held = orders.get(order.id)
    if held is not None:
        raise _duplicate(index, "already stored" if held.stored else "twice in the batch",
                         f"order {order.id!r}")
    orders[order.id] = OrderState(order.instrument, order.side, order.quantity, ZERO, rejected,
                                  stored=False)


def _fill(result: Plan, index: int, fill: FillRecord) -> None:
    order = result.orders.get(fill.order_id)
    if order is None:
        raise BadRecord(index, f"no order {fill.order_id!r} in this run: send it first or in "
                               "the same batch")
    if order.rejected:
        raise BadRecord(index, f"order {fill.order_id!r} was refused: it cannot fill")
    if (fill.instrument, fill.side) != (order.instrument, order.side):
        raise BadRecord(index, f"order {fill.order_id!r} is a {order.side} of "
                               f"{order.instrument}, not a {fill.side} of {fill.instrument}")
    filled = EXACT.add(order.filled, fill.quantity)
    if filled > order.quantity:
        raise BadRecord(index, f"fills of order {fill.order_id!r} would total {filled}, over "
                               f"its quantity {order.quantity}")
    order.filled = filled
    result.positions.setdefault(fill.instrument, Position()).apply(fill)
    result.fills.append(fill)


# storing a batch
async def record(backend: Backend, caller: Caller, batch: RecordBatch) -> dict[str, int]:
    """Store the batch of the caller's desk, all or none; how many records of each kind."""
    await authz.require_any_license(backend, caller)
    desk, run = caller.address.lower(), batch.run_id
    async with backend.db.transaction() as conn:
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                           (f"noderr.trading:{desk}:{run}",))
        orders, positions, points = await _stored(conn, desk, batch)
        result = plan(batch, orders, positions, points)
        await _write(conn, desk, run, result)
    return result.counts()


def _referenced(batch: RecordBatch) -> tuple[set[str], set[str], list[datetime]]:
    """The order ids, instruments and equity point times the batch names."""
    ids, instruments, times = set(), set(), []
    for item in batch.records:
        if isinstance(item, OrderRecord):
            ids.add(item.id)
        elif isinstance(item, RejectionRecord):
            ids.add(item.order.id)
        elif isinstance(item, FillRecord):
            ids.add(item.order_id)
            instruments.add(item.instrument)
        else:
            times.append(item.at)
    return ids, instruments, times


async def _stored(conn: psycopg.AsyncConnection[Any], desk: str, batch: RecordBatch
                  ) -> tuple[dict[str, OrderState], dict[str, Position], set[datetime]]:
    ids, instruments, times = _referenced(batch)
    key = {"desk": desk, "run": batch.run_id}
    orders = await (await conn.execute(
        "SELECT order_id, instrument, side, quantity, filled_quantity, status = 'rejected' "
        "AS rejected FROM trading_orders WHERE desk = %(desk)s AND run_id = %(run)s "
        "AND order_id = ANY(%(ids)s)", {**key, "ids": list(ids)})).fetchall()
    positions = await (await conn.execute(
        "SELECT instrument, quantity, cost, realized_pnl, fills, last_fill_at "
        "FROM trading_positions WHERE desk = %(desk)s AND run_id = %(run)s "
        "AND instrument = ANY(%(instruments)s)",
        {**key, "instruments": list(instruments)})).fetchall()
    points = await (await conn.execute(
        "SELECT at FROM trading_equity WHERE desk = %(desk)s AND run_id = %(run)s "
        "AND at = ANY(%(times)s)", {**key, "times": times})).fetchall()
    return ({row["order_id"]: OrderState(row["instrument"], row["side"], row["quantity"],
                                         row["filled_quantity"], row["rejected"], stored=True)
             for row in orders},
            {row.pop("instrument"): Position(**row) for row in positions},
            {row["at"] for row in points})


INSERT_ORDER = """
INSERT INTO trading_orders (desk, run_id, order_id, instrument, side, order_type,
                            time_in_force, quantity, limit_price, created_at, status)
VALUES (%(desk)s, %(run)s, %(id)s, %(instrument)s, %(side)s, %(order_type)s,
        %(time_in_force)s, %(quantity)s, %(limit_price)s, %(created_at)s, %(status)s)
"""
INSERT_REJECTION = """
INSERT INTO trading_rejections (desk, run_id, order_id, check_name, check_value, check_limit,
                                reason, at)
VALUES (%(desk)s, %(run)s, %(order_id)s, %(check)s, %(value)s, %(limit)s, %(reason)s, %(at)s)
"""
INSERT_FILL = """
INSERT INTO trading_fills (desk, run_id, order_id, instrument, side, quantity, price, fee, at)
VALUES (%(desk)s, %(run)s, %(order_id)s, %(instrument)s, %(side)s, %(quantity)s, %(price)s,
        %(fee)s, %(at)s)
"""
UPDATE_FILLED = """
UPDATE trading_orders SET filled_quantity = %(filled)s, status = %(status)s
 WHERE desk = %(desk)s AND run_id = %(run)s AND order_id = %(order_id)s
"""
UPSERT_POSITION = """
INSERT INTO trading_positions (desk, run_id, instrument, quantity, cost, realized_pnl, fills,
                               last_fill_at)
VALUES (%(desk)s, %(run)s, %(instrument)s, %(quantity)s, %(cost)s, %(realized_pnl)s,
        %(fills)s, %(last_fill_at)s)
ON CONFLICT (desk, run_id, instrument) DO UPDATE SET quantity = EXCLUDED.quantity,
    cost = EXCLUDED.cost, realized_pnl = EXCLUDED.realized_pnl, fills = EXCLUDED.fills,
    last_fill_at = EXCLUDED.last_fill_at
"""
INSERT_POINT = """
INSERT INTO trading_equity (desk, run_id, at, cash, market_value, equity, realized_pnl,
                            unrealized_pnl, fees)
VALUES (%(desk)s, %(run)s, %(at)s, %(cash)s, %(market_value)s, %(equity)s, %(realized_pnl)s,
        %(unrealized_pnl)s, %(fees)s)
"""


async def _write(conn: psycopg.AsyncConnection[Any], desk: str, run: str, result: Plan
                 ) -> None:
    key = {"desk": desk, "run": run}
    filled = {fill.order_id for fill in result.fills}
    statements = [
        (INSERT_ORDER, [{**key, **order.model_dump(exclude={"kind"}),
                         "status": result.orders[order.id].status}
                        for order in result.new_orders]),
        (INSERT_REJECTION, [{**key, **item.model_dump(exclude={"kind", "order"}),
                             "order_id": item.order.id} for item in result.rejections]),
        (INSERT_FILL, [{**key, **fill.model_dump(exclude={"kind", "notional"})}
                       for fill in result.fills]),
        (UPDATE_FILLED, [{**key, "order_id": order_id, "filled": result.orders[order_id].filled,
                          "status": result.orders[order_id].status} for order_id in filled]),
        (UPSERT_POSITION, [{**key, "instrument": instrument, **dataclasses.asdict(position)}
                           for instrument, position in result.positions.items()
                           if position.fills]),
        (INSERT_POINT, [{**key, **point.model_dump(exclude={"kind"})}
                        for point in result.points]),
    ]
    async with conn.cursor() as cursor:
        for statement, rows in statements:
            if rows:
                await cursor.executemany(statement, rows)


# the public reads
def text(amount: Decimal | None) -> str | None:
    """A decimal string without exponent."""
    return None if amount is None else format(amount, "f")


async def positions(db: Database, desk: str | None, run: str | None, limit: int) -> list[Row]:
    """Open positions (flat ones left out) by desk, run and instrument."""
    rows = await db.fetch(
        "SELECT desk, run_id, instrument, quantity, cost, realized_pnl, fills, last_fill_at "
        "FROM trading_positions WHERE quantity <> 0 "
        "AND (%(desk)s::text IS NULL OR desk = %(desk)s) "
        "AND (%(run)s::text IS NULL OR run_id = %(run)s) "
        "ORDER BY desk, run_id, instrument LIMIT %(limit)s",
        {"desk": desk and desk.lower(), "run": run, "limit": limit})
    return [{**row, "desk": to_checksum_address(row["desk"]), "quantity": text(row["quantity"]),
             "average_price": text(EXACT.divide(row["cost"], row["quantity"])
                                   .quantize(PRICE_STEP, context=EXACT)),
             "cost": text(row["cost"]), "realized_pnl": text(row["realized_pnl"])}
            for row in rows]


ORDER_COLUMNS = sql.SQL(
    "o.id, o.desk, o.run_id, o.order_id, o.instrument, o.side, o.order_type, o.time_in_force, "
    "o.quantity, o.limit_price, o.created_at, o.filled_quantity, o.status, r.check_name, "
    "r.check_value, r.check_limit, r.reason, r.at AS rejected_at")
ORDER_FILTERS = {"desk": "o.desk = %(desk)s", "instrument": "o.instrument = %(instrument)s",
                 "status": "o.status = %(status)s"}


async def orders(db: Database, filters: dict[str, str | None],
                 before: tuple[datetime, int] | None, limit: int) -> list[Row]:
    """Up to `limit` orders, newest first, older than the (created_at, id) position
    `before`; `filters` by ORDER_FILTERS name (a desk address in any case), None ignored."""
    given = {name: value for name, value in filters.items() if value is not None}
    if "desk" in given:
        given["desk"] = given["desk"].lower()
    clauses = [sql.SQL(ORDER_FILTERS[name]) for name in ORDER_FILTERS if name in given]
    params: dict[str, Any] = {**given, "limit": limit}
    if before is not None:
        params["before_at"], params["before_id"] = before
        clauses.append(sql.SQL("(o.created_at, o.id) < (%(before_at)s, %(before_id)s)"))
    query = sql.SQL(
        "SELECT {} FROM trading_orders o LEFT JOIN trading_rejections r "
        "USING (desk, run_id, order_id) {} ORDER BY o.created_at DESC, o.id DESC "
        "LIMIT %(limit)s").format(
        ORDER_COLUMNS, sql.SQL("WHERE ") + sql.SQL(" AND ").join(clauses) if clauses
        else sql.SQL(""))
    return [_order(row) for row in await db.fetch(query, params)]


def _order(row: Row) -> Row:
    rejection = None if row["check_name"] is None else {
        "check": row["check_name"], "value": row["check_value"], "limit": row["check_limit"],
        "reason": row["reason"], "at": row["rejected_at"]}
    return {"id": row["id"], "desk": to_checksum_address(row["desk"]), "run_id": row["run_id"],
            "order_id": row["order_id"], "instrument": row["instrument"], "side": row["side"],
            "order_type": row["order_type"], "time_in_force": row["time_in_force"],
            "quantity": text(row["quantity"]), "limit_price": text(row["limit_price"]),
            "created_at": row["created_at"], "filled_quantity": text(row["filled_quantity"]),
            "status": row["status"], "rejection": rejection}


EQUITY_AMOUNTS = ("cash", "market_value", "equity", "realized_pnl", "unrealized_pnl", "fees")


async def pnl(db: Database, desk: str | None, run: str | None, limit: int) -> list[Row]:
    """The latest `limit` points of the equity curve, oldest first."""
    rows = await db.fetch(
        "SELECT * FROM (SELECT id, desk, run_id, at, cash, market_value, equity, realized_pnl, "
        "unrealized_pnl, fees FROM trading_equity "
        "WHERE (%(desk)s::text IS NULL OR desk = %(desk)s) "
        "AND (%(run)s::text IS NULL OR run_id = %(run)s) "
        "ORDER BY at DESC, id DESC LIMIT %(limit)s) AS latest ORDER BY at, id",
        {"desk": desk and desk.lower(), "run": run, "limit": limit})
    return [{**row, "desk": to_checksum_address(row["desk"]),
             **{name: text(row[name]) for name in EQUITY_AMOUNTS}} for row in rows]


# the halt
async def guard(backend: Backend) -> Row:
    """Whether NodeGuard is halted at the indexed block. `nonce` is the guard's `halt_nonce`
    (accepted halts so far: the nonce the next halt is signed with); `block` and `since` are
    those of its last halt or resume; `reason` and `signers` those of the halt in force."""
    record = backend.deployment.contracts.get(GUARD_CONTRACT)
    if record is None:
        raise NotFound(f"this deployment has no {GUARD_CONTRACT}")
    row = await mirror.guard_state(backend.db, backend.chain_id, record.address)
    event, args = row["event_name"], row["args"] or {}
    halted = event == "Halted"
    return {"guard": to_checksum_address(record.address), "halted": halted,
            "nonce": 0 if event is None else int(args["nonce"]) + 1,
            "reason": args["reason"] if halted else None,
            "signers": [to_checksum_address(signer) for signer in args["signers"]]
            if halted else [],
            "block": row["block_number"], "since": row["block_timestamp"],
            "indexed_block": row["indexed_block"]}
