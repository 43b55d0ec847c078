"""The risk gate every order passes before the venue: a callable (order, context) -> decision.

The desk calls it with what a Guardian needs to judge the order and fails closed on anything
but an allowing LimitDecision. `LocalRiskGate` makes the Guardian pre-trade checks in process;
the bus request/reply to Guardian nodes goes behind the same callable."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from node.desk.records import Order
from node.guardian.decisions import LimitDecision
from node.guardian.limits import (
    TokenBucket,
    check_balance_sufficiency,
    check_order_notional_limit,
    check_order_rate_limit,
    check_position_limit,
    check_price_band,
)
from node.guardian.shutdown import TradingState, check_trading_state


@dataclass(frozen=True)
class RiskContext:
    """The desk's state as the checks read it: the order's instrument's latest feed value,
    the positions (quantities), the free balance (buying power: see PaperDesk) and the trading
    state the desk is in."""

    at: datetime
    price: float
    positions: Mapping[str, float]
    free_balance: float
    trading_state: TradingState


RiskGate = Callable[[Order, RiskContext], LimitDecision]


class LocalRiskGate:
    """The Guardian pre-trade checks in process, in order: trading state, notional per order,
    position cap, balance, price band (a limit price within `price_band` of the feed price),
    then the submit rate (last, so that only an order that passed the
    others spends a token). The first that refuses is the answer; else an allowing decision
    of check "pre_trade" whose value is the number of checks passed."""

    CHECKS = 6

    def __init__(self, notional_limits: Mapping[str, float],
                 position_limits: Mapping[str, float], *, rate_capacity: float = 10.0,
                 rate_per_second: float = 1.0, fee_rate: float = 0.0,
                 price_band: float = 0.10) -> None:
        self._notional_limits = dict(notional_limits)
        self._position_limits = dict(position_limits)
        self._rate = (rate_capacity, rate_per_second)
        self._fee_rate = fee_rate
        self._price_band = price_band
        self._bucket: TokenBucket | None = None

    def __call__(self, order: Order, context: RiskContext) -> LimitDecision:
        checked = order.for_guardian()
        held = context.positions.get(order.instrument, 0.0)
        for decide in (
            lambda: check_trading_state(context.trading_state, held, checked),
            lambda: check_order_notional_limit(checked, context.price, self._notional_limits),
            lambda: check_position_limit(context.positions, checked, self._position_limits),
            lambda: check_balance_sufficiency(context.free_balance, checked, context.price,
                                              position=held, fee_rate=self._fee_rate),
            lambda: check_price_band(checked, context.price, self._price_band),
            lambda: self._spend_token(context.at),
        ):
            decision = decide()
            if not decision.allowed:
                return decision
        return LimitDecision(True, "pre_trade", float(self.CHECKS), float(self.CHECKS),
                             f"{self.CHECKS} pre-trade checks passed")

    def _spend_token(self, at: datetime) -> LimitDecision:
        if self._bucket is None:
            self._bucket = TokenBucket.full(*self._rate, at)
        decision = check_order_rate_limit(self._bucket, at)
        self._bucket = decision.bucket
        return decision
