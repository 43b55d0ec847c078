"""Small builders of the desk's inputs: a flat book, fills, a scripted strategy, spies."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from node.desk.records import Fill, Order
from node.desk.venue import SimulatedVenue
from node.guardian.decisions import LimitDecision
from node.guardian.orders import Side
from node.sources.book import BookProfile

AT = datetime(2020, 3, 2, 15, 30, tzinfo=UTC)

FLAT_BOOK = BookProfile(levels=10, level_notional=1_000.0, depth_slope=0.0,
                        size_dispersion=0.0, mean_extra_spread_ticks=0.0,
                        withdrawal_probability=0.0, wall_probability=0.0)
"""Around a mid of 100 (tick 0.01): bids 100.00, 99.99, ..., asks 100.01, 100.02, ...,
10 units on every level (1,000 of notional / 100)."""


def day(number: int) -> datetime:
    return AT + timedelta(days=number)


def fill(side: Side, quantity: str, price: str, fee: str = "0",
         instrument: str = "SP500") -> Fill:
    return Fill("o-1", instrument, side, Decimal(quantity), Decimal(price), Decimal(fee), AT)


def market(order_id: str, side: Side, quantity: str, instrument: str = "SP500") -> Order:
    return Order(order_id, instrument, side, Decimal(quantity), AT)


@dataclass
class ScriptedStrategy:
    """Sends the given (side, quantity) legs, one list per step, then nothing."""

    script: list[list[tuple[Side, str]]]
    lookback: int = 2

    def orders(self, instrument: str, prices: Sequence[float], position: Decimal,
               equity: Decimal, at: datetime, next_id: Callable[[], str]) -> list[Order]:
        legs = self.script.pop(0) if self.script else []
        return [Order(next_id(), instrument, side, Decimal(quantity), at)
                for side, quantity in legs]


class SpyVenue(SimulatedVenue):
    """A simulated venue that remembers every order submitted to it."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.submitted: list[Order] = []

    def submit(self, order: Order) -> list[Fill]:
        self.submitted.append(order)
        return super().submit(order)


@dataclass
class SpyGate:
    """Answers `answer` (or raises it when it is an exception), counts its calls and keeps the
    contexts it was asked in."""

    answer: object = field(default_factory=lambda: LimitDecision(True, "pre_trade", 1, 1, "ok"))
    calls: int = 0
    contexts: list[object] = field(default_factory=list)

    def __call__(self, order: Order, context: object) -> object:
        self.calls += 1
        self.contexts.append(context)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer
