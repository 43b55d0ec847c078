"""Where the desk's orders go: the `Venue` interface, and the simulated venue of PAPER trading.

`SimulatedVenue` fills at the feed's price: each order walks a seeded L2 book that
node.sources.book.BookSimulator draws around the latest feed value (the mid), level by level
(the asks for a buy, the bids for a sell), so a large order pays the spread and the depth it
eats (slippage) and an order larger than the book is filled in part. A market order is
immediate or cancel (what the book does not hold is cancelled); a limit order takes only the
levels at or better than its price and the rest waits (good till cancelled), walked against a
fresh book at each new feed value of its instrument. Every fill pays `fee_bps` basis points of
its notional. One book is drawn per submitted order and per new feed value with resting orders,
so the same seed and the same calls give the same fills."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import numpy as np

from node.desk.money import MONEY_CONTEXT, ZERO, decimal_of, fee_of, price_of, quantity_down
from node.desk.records import Fill, Order
from node.errors import InvalidParameter, UnknownInstrument
from node.sources.book import BookProfile, BookSimulator


@dataclass(frozen=True)
class OpenOrder:
    """An order resting in the venue and the quantity of it still unfilled."""

    order: Order
    remaining: Decimal


class Venue(ABC):
    """What the desk needs of a venue. A real exchange adapter implements it with the
    credentials the node fetched from the vault for its license, as
    node.sources.base.LiveExchangeSource does for market data: built from a mapping of secrets,
    refusing a missing one before any connection, never showing them in repr or logs."""

    @abstractmethod
    def on_price(self, instrument: str, price: Decimal, at: datetime) -> list[Fill]:
        """A new agreed feed value of `instrument`; the fills of resting orders since the last
        call (a real adapter returns the executions the exchange reported)."""

    @abstractmethod
    def submit(self, order: Order) -> list[Fill]:
        """Send `order`; the fills it got at once."""

    @abstractmethod
    def cancel(self, order_id: str) -> bool:
        """Cancel the rest of a resting order; False when no such order is open."""

    @abstractmethod
    def open_orders(self) -> tuple[OpenOrder, ...]: ...


@dataclass(frozen=True)
class _Level:
    price: Decimal
    size: Decimal


class _Book:
    """One side of one drawn book, consumed as orders walk it."""

    def __init__(self, prices: np.ndarray, sizes: np.ndarray) -> None:
        self._levels = [_Level(price_of("book price", float(price)), quantity_down(float(size)))
                        for price, size in zip(prices, sizes, strict=True)]

    def __iter__(self) -> Iterator[_Level]:
        return iter(self._levels)

    def take(self, index: int, quantity: Decimal) -> None:
        level = self._levels[index]
        self._levels[index] = _Level(level.price, MONEY_CONTEXT.subtract(level.size, quantity))


class SimulatedVenue(Venue):
    """The PAPER venue (see the module): seeded books around the feed, fees in basis points."""

    def __init__(self, fee_bps: Decimal | int | str = Decimal("1"), seed: int = 0,
                 book_profile: BookProfile | None = None) -> None:
        self.fee_bps = decimal_of("fee_bps", fee_bps)
        if self.fee_bps < ZERO:
            raise InvalidParameter("fee_bps must be >= 0")
        self._books = BookSimulator(seed, book_profile)
        self._marks: dict[str, tuple[Decimal, datetime]] = {}
        self._open: dict[str, OpenOrder] = {}
        self._seen: set[str] = set()

    def on_price(self, instrument: str, price: Decimal, at: datetime) -> list[Fill]:
        self._marks[instrument] = (price_of(f"price of {instrument}", price), at)
        resting = [entry for entry in self._open.values() if entry.order.instrument == instrument]
        if not resting:
            return []
        books = self._draw(instrument)
        fills: list[Fill] = []
        for entry in resting:
            fills += self._fill(entry.order, entry.remaining, books)
        return fills

    def submit(self, order: Order) -> list[Fill]:
        if order.id in self._seen:
            raise InvalidParameter(f"order id {order.id!r} was already submitted")
        if order.instrument not in self._marks:
            raise UnknownInstrument(f"no feed value of {order.instrument!r} yet")
        self._seen.add(order.id)
        fills = self._fill(order, order.quantity, self._draw(order.instrument))
        if order.order_type == "market":
            self._open.pop(order.id, None)
        return fills

    def cancel(self, order_id: str) -> bool:
        return self._open.pop(order_id, None) is not None

    def open_orders(self) -> tuple[OpenOrder, ...]:
        return tuple(self._open.values())

    def _draw(self, instrument: str) -> dict[str, _Book]:
        mid, at = self._marks[instrument]
        book = self._books.snapshot(instrument, float(mid), at)
        return {"buy": _Book(book.ask_prices, book.ask_sizes),
                "sell": _Book(book.bid_prices, book.bid_sizes)}

    def _fill(self, order: Order, remaining: Decimal, books: dict[str, _Book]) -> list[Fill]:
        """Walk the side of `books` that `order` takes; keep its rest open."""
        _, at = self._marks[order.instrument]
        side = books[order.side]
        fills = []
        for index, level in enumerate(side):
            if remaining == ZERO or not self._within_limit(order, level.price):
                break
            take = min(remaining, level.size)
            if take == ZERO:
                continue
            side.take(index, take)
            remaining = MONEY_CONTEXT.subtract(remaining, take)
            notional = MONEY_CONTEXT.multiply(take, level.price)
            fills.append(Fill(order.id, order.instrument, order.side, take, level.price,
                              fee_of(notional, self.fee_bps), at))
        if remaining == ZERO:
            self._open.pop(order.id, None)
        else:
            self._open[order.id] = OpenOrder(order, remaining)
        return fills

    @staticmethod
    def _within_limit(order: Order, price: Decimal) -> bool:
        if order.limit_price is None:
            return True
        return price <= order.limit_price if order.side == "buy" else price >= order.limit_price
