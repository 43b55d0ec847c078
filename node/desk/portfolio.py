"""The paper account: cash, a position per instrument, realized P&L and fees, in Decimal.

A position keeps its signed quantity and its cost (the signed amount paid for the open part).
A fill that grows a position adds quantity * price to the cost; one that shrinks it removes the
closed share of the cost and books the difference with the proceeds as realized P&L; one that
crosses zero closes the position and opens the rest at the fill's price. The share of the cost
removed is the only division, and it goes into the cost and the realized P&L as the same
number, so for any sequence of fills and any marks, exactly:

    equity = cash + sum(quantity * mark)
    equity - initial cash = realized + unrealized - fees,  unrealized = sum(quantity * mark - cost)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from node.desk.money import MONEY_CONTEXT, STEP, ZERO, decimal_of
from node.desk.records import EquityPoint, Fill
from node.errors import InvalidParameter, UnknownInstrument

M = MONEY_CONTEXT
COST_STEP = STEP * STEP
"""The share of a cost a partial close removes is kept to 16 places (any rounding of it cancels
between the cost and the realized P&L)."""


@dataclass(frozen=True)
class Position:
    instrument: str
    quantity: Decimal = ZERO
    cost: Decimal = ZERO

    @property
    def average_price(self) -> Decimal | None:
        """The average entry price of the open quantity (None when flat), to 8 places."""
        if self.quantity == ZERO:
            return None
        return M.divide(self.cost, self.quantity).quantize(STEP, context=M)

    def market_value(self, mark: Decimal) -> Decimal:
        return M.multiply(self.quantity, mark)

    def unrealized(self, mark: Decimal) -> Decimal:
        return M.subtract(self.market_value(mark), self.cost)

    def to_dict(self) -> dict[str, str | None]:
        average = self.average_price
        return {"instrument": self.instrument, "quantity": str(self.quantity),
                "cost": str(self.cost), "average_price": None if average is None else str(average)}


class Portfolio:
    """Cash and positions of one paper account; fills are applied exactly (see the module)."""

    def __init__(self, cash: Decimal | int | str) -> None:
        self.initial_cash = decimal_of("cash", cash)
        if self.initial_cash <= ZERO:
            raise InvalidParameter("a paper account starts with cash above zero")
        self.cash = self.initial_cash
        self.realized_pnl = ZERO
        self.fees = ZERO
        self._positions: dict[str, Position] = {}

    @property
    def positions(self) -> dict[str, Position]:
        """The open positions (flat ones left out)."""
        return {name: held for name, held in self._positions.items() if held.quantity != ZERO}

    def position(self, instrument: str) -> Decimal:
        return self._positions.get(instrument, Position(instrument)).quantity

    def apply(self, fill: Fill) -> None:
        signed = fill.signed_quantity
        self.cash = M.subtract(self.cash, M.add(M.multiply(signed, fill.price), fill.fee))
        self.fees = M.add(self.fees, fill.fee)
        held = self._positions.get(fill.instrument, Position(fill.instrument))
        self._positions[fill.instrument] = self._moved(held, signed, fill.price)

    def _moved(self, held: Position, signed: Decimal, price: Decimal) -> Position:
        if held.quantity == ZERO or (held.quantity > ZERO) == (signed > ZERO):
            return Position(held.instrument, M.add(held.quantity, signed),
                            M.add(held.cost, M.multiply(signed, price)))
        closed = min(abs(signed), abs(held.quantity))
        cost_removed = (held.cost if closed == abs(held.quantity)
                        else M.divide(M.multiply(held.cost, closed), abs(held.quantity))
                        .quantize(COST_STEP, context=M))
        proceeds = M.multiply(M.multiply(closed, price), 1 if held.quantity > ZERO else -1)
        self.realized_pnl = M.add(self.realized_pnl, M.subtract(proceeds, cost_removed))
        quantity = M.add(held.quantity, signed)
        if abs(signed) <= abs(held.quantity):
            return Position(held.instrument, quantity, M.subtract(held.cost, cost_removed))
        return Position(held.instrument, quantity, M.multiply(quantity, price))

    def _mark(self, marks: Mapping[str, Decimal], instrument: str) -> Decimal:
        if instrument not in marks:
            raise UnknownInstrument(f"no mark for the open position in {instrument!r}")
        return marks[instrument]

    def market_value(self, marks: Mapping[str, Decimal]) -> Decimal:
        total = ZERO
        for name, held in self.positions.items():
            total = M.add(total, held.market_value(self._mark(marks, name)))
        return total

    def gross_exposure(self, marks: Mapping[str, Decimal]) -> Decimal:
        total = ZERO
        for name, held in self.positions.items():
            total = M.add(total, abs(held.market_value(self._mark(marks, name))))
        return total

    def unrealized_pnl(self, marks: Mapping[str, Decimal]) -> Decimal:
        total = ZERO
        for name, held in self.positions.items():
            total = M.add(total, held.unrealized(self._mark(marks, name)))
        return total

    def equity(self, marks: Mapping[str, Decimal]) -> Decimal:
        return M.add(self.cash, self.market_value(marks))

    def point(self, marks: Mapping[str, Decimal], at: datetime) -> EquityPoint:
        market_value = self.market_value(marks)
        return EquityPoint(at, self.cash, market_value, M.add(self.cash, market_value),
                           self.realized_pnl, self.unrealized_pnl(marks), self.fees)
