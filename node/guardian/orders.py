"""What the Guardian functions are handed about trading: an order to check, a fill, a closed
trade. Plain values; the checks of node.guardian.checks refuse inconsistent ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Side = Literal["buy", "sell"]
SIDES: tuple[Side, ...] = ("buy", "sell")


@dataclass(frozen=True)
class Order:
    """An order to check before it reaches the venue. `quantity` is positive; the side gives the
    direction. `price` is the order's limit price, None for a market order."""

    instrument: str
    side: Side
    quantity: float
    price: float | None = None

    @property
    def signed_quantity(self) -> float:
        return self.quantity if self.side == "buy" else -self.quantity


@dataclass(frozen=True)
class Fill:
    owner: str
    instrument: str
    side: Side
    quantity: float
    price: float
    at: datetime


@dataclass(frozen=True)
class ClosedTrade:
    """A round trip as freqtrade logs it: when it closed, why (its exit reason) and its profit
    as a fraction of the stake."""

    instrument: str
    closed_at: datetime
    exit_reason: str
    profit_ratio: float
