from __future__ import annotations

import itertools
import math
from decimal import Decimal

import numpy as np
import pytest

from node.desk.strategy import VolTargetTrend, ewma_volatility
from node.errors import InvalidParameter, NonFiniteInput
from tests.node.desk.builders import AT

RISING = [97.0, 98.0, 99.0, 100.0]
FALLING = [103.0, 102.0, 101.0, 100.0]
EQUITY = Decimal(1_000_000)
# 0.10 / (0.01 * sqrt(252)) = 0.629940788..., taken to 8 places: 0.62994079;
# 0.62994079 * 1,000,000 / 100 = 6299.4079, rounded toward zero to 0.001
SIZED = Decimal("6299.407")


def trend(daily_volatility: float = 0.01, **overrides) -> VolTargetTrend:
    return VolTargetTrend(**{"fast": 2, "slow": 4, "forecast": lambda _: daily_volatility,
                             **overrides})


def ids():
    counter = itertools.count(1)
    return lambda: f"o-{next(counter)}"


def test_ewma_volatility__weighs_the_newest_return_most():
    expected = math.sqrt((0.94 * 0.01 ** 2 + 1.0 * 0.02 ** 2) / (0.94 + 1.0))

    assert ewma_volatility(np.array([0.01, -0.02])) == pytest.approx(expected, rel=1e-15)


def test_target_position__is_target_over_forecast_volatility_times_equity_over_price():
    assert trend().target_position(RISING, EQUITY) == SIZED


def test_target_position__sign_follows_the_trend():
    assert trend().target_position(FALLING, EQUITY) == -SIZED
    assert trend(allow_short=False).target_position(FALLING, EQUITY) == 0


@pytest.mark.parametrize("daily_volatility", [1e-5, 0.0])
def test_target_position__leverage_is_capped(daily_volatility):
    # 2.0 * 1,000,000 / 100
    assert trend(daily_volatility).target_position(RISING, EQUITY) == Decimal(20_000)


def test_target_position__is_flat_until_the_slow_window_is_full():
    assert trend().target_position(RISING[1:], EQUITY) == 0


def test_leverage__forecast_reads_the_log_returns_of_the_lookback():
    seen = []
    strategy = trend(forecast=lambda returns: seen.append(returns) or 0.01)

    strategy.leverage([96.0, *RISING])

    np.testing.assert_array_equal(seen[0], np.diff(np.log([96.0, *RISING])))


@pytest.mark.parametrize("forecast", [math.nan, math.inf, -0.01])
def test_leverage__unusable_forecast_is_refused(forecast):
    with pytest.raises(NonFiniteInput):
        trend(forecast).leverage(RISING)


def test_orders__from_flat_buy_the_target():
    [order] = trend().orders("SP500", RISING, Decimal(0), EQUITY, AT, ids())

    assert (order.id, order.side, order.quantity, order.order_type) == (
        "o-1", "buy", SIZED, "market")


def test_orders__crossing_zero_closes_then_opens():
    orders = trend().orders("SP500", FALLING, Decimal(1000), EQUITY, AT, ids())

    assert [(o.side, o.quantity) for o in orders] == [("sell", 1000), ("sell", SIZED)]


def test_orders__change_below_the_minimum_trade_is_not_traded():
    # 0.407 units * 100 = 40.7, below 2% of the equity
    assert trend().orders("SP500", RISING, Decimal(6299), EQUITY, AT, ids()) == []


def test_init__fast_not_shorter_than_slow_is_refused():
    with pytest.raises(InvalidParameter):
        VolTargetTrend(fast=10, slow=10)


def test_orders__instrument_forecast__sizes_from_it_by_instrument_and_time():
    asked = []
    strategy = trend(daily_volatility=0.5,
                     instrument_forecast=lambda name, at: asked.append((name, at)) or 0.01)

    orders = strategy.orders("SP500", RISING, Decimal(0), EQUITY, AT, ids())

    assert asked == [("SP500", AT)]
    assert [(order.side, order.quantity) for order in orders] == [("buy", SIZED)]


def test_orders__instrument_forecast_has_none__sized_from_the_returns_forecast():
    strategy = trend(instrument_forecast=lambda name, at: None)

    orders = strategy.orders("SP500", RISING, Decimal(0), EQUITY, AT, ids())

    assert [(order.side, order.quantity) for order in orders] == [("buy", SIZED)]


@pytest.mark.parametrize("forecast", [math.nan, -0.01])
def test_leverage__unusable_instrument_forecast_is_refused(forecast):
    strategy = trend(instrument_forecast=lambda name, at: forecast)

    with pytest.raises(NonFiniteInput):
        strategy.leverage(RISING, "SP500", AT)
