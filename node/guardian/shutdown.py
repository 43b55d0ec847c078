"""Emergency shutdown triggers and the trading state they drive.

The kill switch is hummingbot's (stop when P&L falls to a threshold); the circuit breaker the
exchanges' market-wide one (a move from the reference price beyond a band within a window);
the stop-loss guard freqtrade's StoplossGuard (`trade_limit` stop-loss exits with a loss within
`lookback` lock trading until `stop_duration` after the last one). The trading state is
nautilus_trader's RiskEngine's: ACTIVE lets every order through, REDUCING only orders that
shrink a position, HALTED none. Here a guardian's own trigger only takes it to REDUCING; HALTED
needs a quorum of distinct guardians, and only an explicit governance resume leaves it."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike

from node.errors import EmptyInput
from node.guardian import checks as guardian_checks
from node.guardian.decisions import LimitDecision, Trigger
from node.guardian.orders import ClosedTrade, Order
from node.oracle import checks
from node.oracle.refusals import MalformedInput
from node.sources.market import from_ns

STOPLOSS_EXIT_REASONS = frozenset({"stop_loss", "stoploss_on_exchange", "trailing_stop_loss",
                                   "liquidation"})
"""freqtrade's ExitType values that StoplossGuard counts."""


def evaluate_kill_switch(pnl: float, threshold: float) -> Trigger:
    """Triggered when the P&L (currency, since the session's start) is at or below `threshold`
    (a loss, so below zero). The state it calls for is HALTED (see set_trading_state)."""
    value = checks.finite_scalar("pnl", pnl)
    limit = checks.finite_scalar("threshold", threshold)
    checks.require(limit < 0, f"threshold is a loss and must be below zero, got {limit}")
    return Trigger(value <= limit, "kill_switch", value, limit)


def evaluate_circuit_breaker(times: ArrayLike, prices: ArrayLike, now: datetime,
                             window: timedelta, band: float,
                             pause: timedelta | None = None) -> Trigger:
    """The largest |p / reference - 1| over the prices of (now - window, now], the reference
    being the price in force at now - window; triggered at or beyond `band` (a fraction), with
    trading paused until now + `pause` when given. Refused when the history starts after the
    window does: nothing says what the reference was."""
    window_ns = checks.positive_duration("window", window)
    checks.require(0 < band < 1, f"band must be in (0, 1), got {band}")
    at = checks.nanoseconds("times", times)
    values = checks.positive_array("prices", prices)
    checks.same_length(times=at, prices=values)
    now_ns = guardian_checks.instant("now", now)
    start_ns = now_ns - window_ns
    if at[0] > start_ns:
        raise EmptyInput("price history starts after the window does: no reference price")
    first = int(np.searchsorted(at, start_ns, side="right")) - 1
    stop = int(np.searchsorted(at, now_ns, side="right"))
    in_window = values[first:stop]
    reference = in_window[0]
    move = float(max(in_window.max() / reference - 1, 1 - in_window.min() / reference))
    triggered = move >= band
    until = now + pause if triggered and pause is not None else None
    return Trigger(triggered, "circuit_breaker", move, band, until)


def evaluate_stoploss_guard(trades: Sequence[ClosedTrade], now: datetime, lookback: timedelta,
                            trade_limit: int, stop_duration: timedelta,
                            instrument: str | None = None,
                            required_profit: float = 0.0) -> Trigger:
    """freqtrade's StoplossGuard: count the trades closed in (now - lookback, now] by a stop
    loss with a profit below `required_profit` (of `instrument` only, when given); at
    `trade_limit` or more, lock until the last of them closed plus `stop_duration`."""
    lookback_ns = checks.positive_duration("lookback", lookback)
    duration_ns = checks.positive_duration("stop_duration", stop_duration)
    checks.count("trade_limit", trade_limit, 1)
    checks.finite_scalar("required_profit", required_profit)
    now_ns = guardian_checks.instant("now", now)
    since_ns = now_ns - lookback_ns
    closes = []
    for trade in trades:
        closed_ns = guardian_checks.instant("closed_at", trade.closed_at)
        profit = checks.finite_scalar("profit_ratio", trade.profit_ratio)
        if (since_ns < closed_ns <= now_ns and trade.exit_reason in STOPLOSS_EXIT_REASONS
                and profit < required_profit
                and (instrument is None or trade.instrument == instrument)):
            closes.append(closed_ns)
    triggered = len(closes) >= trade_limit
    until = from_ns(max(closes) + duration_ns) if triggered else None
    return Trigger(triggered, "stoploss_guard", float(len(closes)), float(trade_limit), until)


class TradingState(StrEnum):
    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"


@dataclass(frozen=True)
class StateTransition:
    state: TradingState
    previous: TradingState
    reason: str

    @property
    def changed(self) -> bool:
        return self.state != self.previous


def set_trading_state(current: TradingState, triggers: Sequence[Trigger],
                      halt_votes: Collection[str], quorum: int,
                      governance_resume: bool = False) -> StateTransition:
    """The next trading state. `halt_votes` are the addresses of the guardians that signed a
    halt; `quorum` distinct ones halt trading. `triggers` are this guardian's own readings: any
    triggered one takes trading to REDUCING, none back to ACTIVE. Out of HALTED only with
    `governance_resume` (the timelock's resume); the votes that halted are spent by it, so the
    resumed state follows the triggers alone and a new halt needs new votes."""
    checks.require(current in tuple(TradingState), f"unknown trading state {current!r}")
    checks.count("quorum", quorum, 1)
    voters = set(guardian_checks.addresses(halt_votes))
    if len(voters) != len(halt_votes):
        raise MalformedInput("a guardian votes twice among the halt votes")
    firing = [trigger.check for trigger in triggers if trigger.triggered]
    state = TradingState(current)
    if state is TradingState.HALTED:
        if not governance_resume:
            return StateTransition(state, state, "halted until governance resumes")
        return _from_triggers(state, firing, "governance resumed")
    if len(voters) >= quorum:
        return StateTransition(TradingState.HALTED, state,
                               f"{len(voters)} guardian halt vote(s), quorum {quorum}")
    return _from_triggers(state, firing, "")


def _from_triggers(previous: TradingState, firing: list[str], prefix: str) -> StateTransition:
    if firing:
        reason = "triggered: " + ", ".join(firing)
        return StateTransition(TradingState.REDUCING, previous,
                               f"{prefix}; {reason}" if prefix else reason)
    return StateTransition(TradingState.ACTIVE, previous, prefix or "no trigger")


def check_trading_state(state: TradingState, position: float, order: Order) -> LimitDecision:
    """Whether `order` may trade in `state` (nautilus' RiskEngine): all in ACTIVE; in REDUCING
    only an order that leaves the position smaller in size and on the same side (or flat);
    none in HALTED. value: |position after|, limit: |position now|."""
    checked = guardian_checks.order(order)
    held = checks.finite_scalar("position", position)
    after = held + checked.signed_quantity
    reducing = abs(after) < abs(held) and after * held >= 0
    allowed = state is TradingState.ACTIVE or (state is TradingState.REDUCING and reducing)
    return LimitDecision(allowed, "trading_state", abs(after), abs(held),
                         f"{TradingState(state).value}: order "
                         f"{'reduces' if reducing else 'does not reduce'} the position")
