"""The desk's records: the orders it sends, the fills it gets, the orders refused before the
venue and a point of the equity curve per step. Each has to_dict() (amounts as decimal strings,
times as ISO 8601) so the backend can persist them as they are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from node.desk.money import MONEY_CONTEXT, ZERO
from node.errors import InvalidParameter
from node.guardian import orders as guardian_orders
from node.guardian.orders import SIDES, Side

OrderType = Literal["market", "limit"]
TIME_IN_FORCE: dict[OrderType, str] = {"market": "IOC", "limit": "GTC"}
"""A market order takes what the book holds now and the rest is cancelled (immediate or
cancel); a limit order's rest waits in the venue (good till cancelled)."""


def _text(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class Order:
    id: str
    instrument: str
    side: Side
    quantity: Decimal
    created_at: datetime
    order_type: OrderType = "market"
    limit_price: Decimal | None = None

    def __post_init__(self) -> None:
        if self.side not in SIDES:
            raise InvalidParameter(f"order {self.id}: side must be buy or sell")
        if not self.quantity > ZERO:
            raise InvalidParameter(f"order {self.id}: quantity must be above zero")
        if self.order_type not in TIME_IN_FORCE:
            raise InvalidParameter(f"order {self.id}: type must be market or limit")
        if (self.order_type == "limit") != (self.limit_price is not None):
            raise InvalidParameter(f"order {self.id}: a limit order, and only one, has a price")
        if self.limit_price is not None and not self.limit_price > ZERO:
            raise InvalidParameter(f"order {self.id}: limit price must be above zero")

    @property
    def time_in_force(self) -> str:
        return TIME_IN_FORCE[self.order_type]

    @property
    def signed_quantity(self) -> Decimal:
        return self.quantity if self.side == "buy" else -self.quantity

    def for_guardian(self) -> guardian_orders.Order:
        """The order as the Guardian checks take it (floats: they compare, they do not book)."""
        price = None if self.limit_price is None else float(self.limit_price)
        return guardian_orders.Order(self.instrument, self.side, float(self.quantity), price)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "instrument": self.instrument, "side": self.side,
                "quantity": _text(self.quantity), "created_at": _text(self.created_at),
                "order_type": self.order_type, "time_in_force": self.time_in_force,
                "limit_price": _text(self.limit_price)}


@dataclass(frozen=True)
class Fill:
    order_id: str
    instrument: str
    side: Side
    quantity: Decimal
    price: Decimal
    fee: Decimal
    at: datetime

    @property
    def signed_quantity(self) -> Decimal:
        return self.quantity if self.side == "buy" else -self.quantity

    @property
    def notional(self) -> Decimal:
        return MONEY_CONTEXT.multiply(self.quantity, self.price)

    def to_dict(self) -> dict[str, Any]:
        return {"order_id": self.order_id, "instrument": self.instrument, "side": self.side,
                "quantity": _text(self.quantity), "price": _text(self.price),
                "fee": _text(self.fee), "notional": _text(self.notional),
                "at": _text(self.at)}


@dataclass(frozen=True)
class Rejection:
    """An order refused before the venue: the check that failed and the numbers it compared
    (None where the check produced none: the gate failed, or trading is halted)."""

    order: Order
    check: str
    value: float | None
    limit: float | None
    reason: str
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"order": self.order.to_dict(), "check": self.check, "value": self.value,
                "limit": self.limit, "reason": self.reason, "at": _text(self.at)}


@dataclass(frozen=True)
class EquityPoint:
    """The account marked at the latest feed values: equity = cash + market_value, and
    equity - initial cash = realized_pnl + unrealized_pnl - fees (exactly)."""

    at: datetime
    cash: Decimal
    market_value: Decimal
    equity: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    fees: Decimal

    def to_dict(self) -> dict[str, Any]:
        return {name: _text(getattr(self, name)) for name in
                ("at", "cash", "market_value", "equity", "realized_pnl", "unrealized_pnl",
                 "fees")}
