"""The PAPER trading desk: on each new agreed feed value, the strategy's orders are checked by
the risk gate before any reaches the venue, the venue's fills update the portfolio, and a
point of the equity curve is recorded.

Fail closed: an order reaches the venue only on an allowing LimitDecision of the gate; a gate
that raises, answers None or anything else refuses it, and the refusal is recorded with the
failing check and its numbers. The trading state (set from the chain mirror by the runtime) is
obeyed before the gate is asked: HALTED refuses every new order (check "halted"), REDUCING
every order that does not shrink its position (check "trading_state"), the same rule as the
Guardian's check_trading_state. The free balance the gate sees is the buying power,
max_leverage * equity - gross exposure (never below zero)."""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from node.desk.gate import RiskContext, RiskGate
from node.desk.money import MONEY_CONTEXT, ZERO, decimal_of, price_of
from node.desk.portfolio import Portfolio
from node.desk.records import EquityPoint, Fill, Order, Rejection
from node.desk.strategy import Strategy
from node.desk.venue import Venue
from node.guardian.decisions import LimitDecision
from node.guardian.shutdown import TradingState, check_trading_state
from node.sources.market import from_ns
from node.sources.replay import load_tape

M = MONEY_CONTEXT


@dataclass(frozen=True)
class Step:
    """What one feed value led to."""

    orders: tuple[Order, ...]
    fills: tuple[Fill, ...]
    rejections: tuple[Rejection, ...]
    point: EquityPoint


class PaperDesk:
    def __init__(self, venue: Venue, portfolio: Portfolio, strategy: Strategy,
                 risk_gate: RiskGate, *, trading_state: TradingState = TradingState.ACTIVE,
                 max_leverage: float = 2.0, name: str = "paper") -> None:
        self.venue = venue
        self.portfolio = portfolio
        self.strategy = strategy
        self.risk_gate = risk_gate
        self.trading_state = TradingState(trading_state)
        self._max_leverage = decimal_of("max_leverage", max_leverage)
        self._name = name
        self._ids = itertools.count(1)
        self.marks: dict[str, Decimal] = {}
        self._history: dict[str, deque[float]] = {}
        self.orders: list[Order] = []
        self.fills: list[Fill] = []
        self.rejections: list[Rejection] = []
        self.equity_curve: list[EquityPoint] = []

    def step(self, instrument: str, price: float | Decimal, at: datetime) -> Step:
        """The desk's reaction to a new agreed value `price` of `instrument` at `at`."""
        mark = price_of(f"price of {instrument}", price)
        self.marks[instrument] = mark
        history = self._history.setdefault(instrument, deque(maxlen=self.strategy.lookback))
        history.append(float(price))
        fills = self._book(self.venue.on_price(instrument, mark, at))
        equity = self.portfolio.equity(self.marks)
        wanted = self.strategy.orders(instrument, list(history),
                                      self.portfolio.position(instrument), equity, at,
                                      self._next_id)
        sent, rejections = [], []
        for order in wanted:
            rejection = self._refusal(order, at)
            if rejection is not None:
                rejections.append(rejection)
                continue
            sent.append(order)
            fills += self._book(self.venue.submit(order))
        self.orders += sent
        self.rejections += rejections
        point = self.portfolio.point(self.marks, at)
        self.equity_curve.append(point)
        return Step(tuple(sent), tuple(fills), tuple(rejections), point)

    def records(self) -> list[dict[str, Any]]:
        """Everything the run produced, as the backend stores it (POST /trading/records): each
        record's to_dict() with its kind; orders before the fills that need them."""
        return ([{"kind": "order", **order.to_dict()} for order in self.orders]
                + [{"kind": "rejection", **item.to_dict()} for item in self.rejections]
                + [{"kind": "fill", **fill.to_dict()} for fill in self.fills]
                + [{"kind": "equity", **point.to_dict()} for point in self.equity_curve])

    def _next_id(self) -> str:
        return f"{self._name}-{next(self._ids)}"

    def _book(self, fills: Iterable[Fill]) -> list[Fill]:
        booked = list(fills)
        for fill in booked:
            self.portfolio.apply(fill)
        self.fills += booked
        return booked

    def _refusal(self, order: Order, at: datetime) -> Rejection | None:
        """Why `order` may not reach the venue, or None when it may."""
        held = float(self.portfolio.position(order.instrument))
        if self.trading_state is TradingState.HALTED:
            return Rejection(order, "halted", None, None, "refused: halted", at)
        if self.trading_state is TradingState.REDUCING:
            state = check_trading_state(self.trading_state, held, order.for_guardian())
            if not state.allowed:
                return Rejection(order, state.check, state.value, state.limit,
                                 f"refused: {state.reason}", at)
        try:
            decision = self.risk_gate(order, self._context(order, at))
        except Exception as error:
            return Rejection(order, "risk_gate_error", None, None,
                             f"refused: the risk gate failed: {type(error).__name__}: {error}",
                             at)
        if not isinstance(decision, LimitDecision):
            return Rejection(order, "risk_gate_no_answer", None, None,
                             f"refused: the risk gate answered {decision!r}", at)
        if decision.allowed is not True:
            return Rejection(order, decision.check, decision.value, decision.limit,
                             decision.reason, at)
        return None

    def _context(self, order: Order, at: datetime) -> RiskContext:
        equity = self.portfolio.equity(self.marks)
        power = M.subtract(M.multiply(self._max_leverage, equity),
                           self.portfolio.gross_exposure(self.marks))
        positions = {name: float(held.quantity)
                     for name, held in self.portfolio.positions.items()}
        return RiskContext(at, float(self.marks[order.instrument]), positions,
                           float(max(power, ZERO)), self.trading_state)


def tape_feed(instrument: str, start: int, count: int) -> list[tuple[datetime, float]]:
    """`count` closes of the replayed `instrument` from bar `start`, as (time, value): a stand-in
    for the agreed feed values in tests and sample runs."""
    bars = load_tape(instrument).bars
    stop = start + count
    times = bars.time[start:stop].view("int64")
    return [(from_ns(int(ns)), float(close))
            for ns, close in zip(times, bars.close[start:stop], strict=True)]


def run_feed(desk: PaperDesk, instrument: str,
             feed: Iterable[tuple[datetime, float]]) -> list[Step]:
    return [desk.step(instrument, value, at) for at, value in feed]
