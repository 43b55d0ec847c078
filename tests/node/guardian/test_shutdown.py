from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from node.errors import EmptyInput, InvalidParameter, NonFiniteInput, NonPositivePrice
from node.guardian.decisions import Trigger
from node.guardian.orders import ClosedTrade, Order
from node.guardian.shutdown import (
    TradingState,
    check_trading_state,
    evaluate_circuit_breaker,
    evaluate_kill_switch,
    evaluate_stoploss_guard,
    set_trading_state,
)
from node.oracle.refusals import MalformedInput
from tests.node.guardian import pandas_reference as reference
from tests.node.guardian.builders import AT, address
from tests.node.oracle.builders import PROPERTIES

FIRED = Trigger(True, "kill_switch", -600.0, -500.0)
QUIET = Trigger(False, "circuit_breaker", 0.01, 0.07)
ACTIVE, REDUCING, HALTED = TradingState.ACTIVE, TradingState.REDUCING, TradingState.HALTED


@pytest.mark.parametrize(("pnl", "triggered"), [(-499.99, False), (-500.0, True),
                                                (-10_000.0, True), (250.0, False)])
def test_kill_switch__at_or_below_the_threshold(pnl, triggered) -> None:
    trigger = evaluate_kill_switch(pnl, -500.0)
    assert (trigger.triggered, trigger.value, trigger.limit) == (triggered, pnl, -500.0)
    assert trigger.triggered == reference.kill_switch(pnl, -500.0)


@pytest.mark.parametrize(("pnl", "threshold", "error"), [
    (math.nan, -1.0, NonFiniteInput), (0.0, 0.0, InvalidParameter),
    (0.0, 5.0, InvalidParameter), (0.0, -math.inf, NonFiniteInput),
])
def test_kill_switch__refuses_bad_input(pnl, threshold, error) -> None:
    with pytest.raises(error):
        evaluate_kill_switch(pnl, threshold)


def _day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_circuit_breaker__trips_in_october_2008_and_not_in_2017(sp500_closes) -> None:
    times, closes = sp500_closes
    window = timedelta(days=7)
    crash = evaluate_circuit_breaker(times, closes, _day("2008-10-10"), window, 0.10,
                                     pause=timedelta(hours=1))
    calm = evaluate_circuit_breaker(times, closes, _day("2017-06-30"), window, 0.10)
    assert crash.triggered and crash.value > 0.15
    assert crash.until == _day("2008-10-10") + timedelta(hours=1)
    assert not calm.triggered and calm.until is None


def test_circuit_breaker__matches_pandas_asof_over_many_windows(sp500_closes) -> None:
    times, closes = sp500_closes
    window = timedelta(days=10)
    for day in np.arange(np.datetime64("2008-01-01"), np.datetime64("2009-06-01"), 17):
        now = _day(str(day)) + timedelta(hours=12)
        move = evaluate_circuit_breaker(times, closes, now, window, 0.05).value
        assert move == pytest.approx(reference.circuit_breaker_move(times, closes, now, window),
                                     rel=1e-12)


def test_circuit_breaker__hand_computed_move_from_the_reference() -> None:
    times = np.array(["2020-01-01T00:00", "2020-01-01T00:10", "2020-01-01T00:20",
                      "2020-01-01T00:30"], dtype="datetime64[ns]")
    prices = [100.0, 104.0, 92.0, 99.0]
    now = _day("2020-01-01T00:30")
    # window (00:05, 00:30]: reference 100 (in force at 00:05); moves +4%, -8%, -1%
    trigger = evaluate_circuit_breaker(times, prices, now, timedelta(minutes=25), 0.075)
    assert (trigger.triggered, trigger.value) == (True, pytest.approx(0.08))
    assert not evaluate_circuit_breaker(times, prices, now, timedelta(minutes=25),
                                        0.085).triggered


@pytest.mark.parametrize(("times", "prices", "window", "band", "error"), [
    (["2020-01-01T00:20"], [100.0], timedelta(minutes=25), 0.1, EmptyInput),
    (["2020-01-01T00:00"], [-1.0], timedelta(minutes=25), 0.1, NonPositivePrice),
    (["2020-01-01T00:00"], [100.0], timedelta(0), 0.1, InvalidParameter),
    (["2020-01-01T00:00"], [100.0], timedelta(minutes=25), 1.5, InvalidParameter),
    (["2020-01-01T00:00", "2020-01-01T00:00"], [100.0, 99.0], timedelta(minutes=25), 0.1,
     MalformedInput),
    (["2020-01-01T00:00"], [100.0, 99.0], timedelta(minutes=25), 0.1, MalformedInput),
])
def test_circuit_breaker__refuses_bad_input(times, prices, window, band, error) -> None:
    with pytest.raises(error):
        evaluate_circuit_breaker(np.array(times, dtype="datetime64[ns]"), prices,
                                 _day("2020-01-01T00:30"), window, band)


def _trade(minutes_ago: float, reason: str = "stop_loss", profit: float = -0.02,
           instrument: str = "SP500") -> ClosedTrade:
    return ClosedTrade(instrument, AT - timedelta(minutes=minutes_ago), reason, profit)


def test_stoploss_guard__locks_after_n_stop_losses_until_the_last_plus_duration() -> None:
    trades = [_trade(50), _trade(30, "trailing_stop_loss"), _trade(10),
              _trade(5, "roi", 0.03), _trade(90)]
    trigger = evaluate_stoploss_guard(trades, AT, timedelta(hours=1), 3, timedelta(minutes=30))
    assert (trigger.triggered, trigger.value, trigger.limit) == (True, 3.0, 3.0)
    assert trigger.until == AT - timedelta(minutes=10) + timedelta(minutes=30)
    assert trigger.until == reference.stoploss_guard(trades, AT, timedelta(hours=1), 3,
                                                     timedelta(minutes=30))


def test_stoploss_guard__ignores_profitable_stops_other_reasons_and_old_trades() -> None:
    trades = [_trade(50, profit=0.01), _trade(30, "exit_signal"), _trade(61), _trade(10)]
    trigger = evaluate_stoploss_guard(trades, AT, timedelta(hours=1), 2, timedelta(minutes=30))
    assert (trigger.triggered, trigger.value, trigger.until) == (False, 1.0, None)
    assert reference.stoploss_guard(trades, AT, timedelta(hours=1), 2,
                                    timedelta(minutes=30)) is None


def test_stoploss_guard__per_instrument() -> None:
    trades = [_trade(20, instrument="GOOG"), _trade(10), _trade(5)]
    assert evaluate_stoploss_guard(trades, AT, timedelta(hours=1), 3, timedelta(minutes=5),
                                   instrument="SP500").value == 2.0


@pytest.mark.parametrize(("trades", "kwargs", "error"), [
    ([], {"trade_limit": 0}, InvalidParameter),
    ([], {"lookback": timedelta(0)}, InvalidParameter),
    ([_trade(5, profit=math.nan)], {}, NonFiniteInput),
    ([ClosedTrade("SP500", AT.replace(tzinfo=None), "stop_loss", -0.1)], {}, InvalidParameter),
])
def test_stoploss_guard__refuses_bad_input(trades, kwargs, error) -> None:
    arguments = {"lookback": timedelta(hours=1), "trade_limit": 2,
                 "stop_duration": timedelta(minutes=5)} | kwargs
    with pytest.raises(error):
        evaluate_stoploss_guard(trades, AT, **arguments)


@pytest.mark.parametrize(("current", "triggers", "votes", "resume", "expected"), [
    (ACTIVE, [QUIET], 0, False, ACTIVE),
    (ACTIVE, [QUIET, FIRED], 0, False, REDUCING),
    (ACTIVE, [FIRED], 1, False, REDUCING),      # one guardian cannot halt
    (ACTIVE, [QUIET], 2, False, HALTED),        # quorum of two
    (REDUCING, [QUIET], 0, False, ACTIVE),
    (REDUCING, [FIRED], 3, False, HALTED),
    (HALTED, [QUIET], 0, False, HALTED),        # triggers clearing do not resume
    (HALTED, [QUIET], 3, False, HALTED),
    (HALTED, [QUIET], 3, True, ACTIVE),         # governance resumes; the votes are spent
    (HALTED, [FIRED], 0, True, REDUCING),
    (ACTIVE, [QUIET], 0, True, ACTIVE),
])
def test_trading_state__transitions(current, triggers, votes, resume, expected) -> None:
    voters = [address(number) for number in range(votes)]
    transition = set_trading_state(current, triggers, voters, quorum=2, governance_resume=resume)
    assert transition.state is expected
    assert transition.previous is current
    assert transition.changed == (expected != current)
    assert expected == reference.trading_state(current, [t.triggered for t in triggers],
                                               voters, 2, resume)


@PROPERTIES
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 4)), min_size=1, max_size=30))
def test_trading_state__halted_is_left_only_by_governance(steps) -> None:
    state = HALTED
    for fired, votes in steps:
        transition = set_trading_state(state, [FIRED if fired else QUIET],
                                       [address(number) for number in range(votes)], quorum=3)
        assert transition.state is HALTED
        state = transition.state


def test_trading_state__refuses_bad_input() -> None:
    with pytest.raises(InvalidParameter):
        set_trading_state(ACTIVE, [], [], quorum=0)
    with pytest.raises(InvalidParameter):
        set_trading_state("PAUSED", [], [], quorum=1)  # type: ignore[arg-type]
    with pytest.raises(MalformedInput):
        set_trading_state(ACTIVE, [], ["guardian-1"], quorum=1)
    with pytest.raises(MalformedInput):
        set_trading_state(ACTIVE, [], [address(1), address(1).upper().replace("0X", "0x")],
                          quorum=1)


@pytest.mark.parametrize(("state", "position", "side", "quantity", "allowed"), [
    (ACTIVE, 10.0, "buy", 5.0, True),
    (REDUCING, 10.0, "buy", 5.0, False),
    (REDUCING, 10.0, "sell", 4.0, True),
    (REDUCING, 10.0, "sell", 10.0, True),       # to flat
    (REDUCING, 10.0, "sell", 12.0, False),      # flips to a short
    (REDUCING, -10.0, "buy", 3.0, True),
    (REDUCING, 0.0, "sell", 1.0, False),
    (HALTED, 10.0, "sell", 4.0, False),
])
def test_trading_state__gates_orders_as_nautilus(state, position, side, quantity,
                                                 allowed) -> None:
    decision = check_trading_state(state, position, Order("SP500", side, quantity))
    assert (decision.allowed, decision.check) == (allowed, "trading_state")
