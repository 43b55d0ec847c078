from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from node.errors import EmptyInput, InvalidParameter, NonFiniteInput, NonPositivePrice, StaleInput
from node.oracle.market_data import (
    collect_ohlcv_bars,
    compute_realized_volatility,
    compute_vwap,
)
from node.oracle.refusals import MalformedInput
from node.sources.market import from_ns
from tests.node.oracle import pandas_reference as reference
from tests.node.oracle.builders import PROPERTIES, bars, with_column


def as_frame(resampled) -> pd.DataFrame:
    return reference.frame(resampled)


@pytest.mark.parametrize("period", [timedelta(hours=4), timedelta(days=1), timedelta(days=7)])
def test_collect__resampling_matches_pandas(eurusd, period) -> None:
    ours = as_frame(collect_ohlcv_bars(eurusd, period))
    pd.testing.assert_frame_equal(ours, reference.resample(eurusd, period), check_freq=False,
                                  check_names=False)


def test_collect__daily_bars_resampled_daily_are_unchanged(sp500) -> None:
    resampled = collect_ohlcv_bars(sp500, timedelta(days=1))
    for column in ("time", "open", "high", "low", "close", "volume"):
        np.testing.assert_array_equal(getattr(resampled, column), getattr(sp500, column))


def test_collect__hand_computed_two_hour_buckets() -> None:
    hourly = bars([1, 2, 3, 4], [2, 3, 5, 6], [0.5, 1, 2, 3], [2, 3, 4, 5], [10, 20, 30, 40],
                  start="2020-01-01T01:00", step="1h")
    resampled = collect_ohlcv_bars(hourly, timedelta(hours=2))
    # buckets [00:00, 02:00): the 01:00 bar; [02:00, 04:00): 02:00 and 03:00; [04:00, 06:00): 04:00
    assert resampled.open.tolist() == [1, 2, 4]
    assert resampled.high.tolist() == [2, 5, 6]
    assert resampled.low.tolist() == [0.5, 1, 3]
    assert resampled.close.tolist() == [2, 4, 5]
    assert resampled.volume.tolist() == [10, 50, 40]
    assert [str(t) for t in resampled.time] == [
        "2020-01-01T00:00:00.000000000", "2020-01-01T02:00:00.000000000",
        "2020-01-01T04:00:00.000000000"]


def test_collect__refuses_stale_bars(sp500) -> None:
    newest = from_ns(int(sp500.time[-1].astype(np.int64)))
    collect_ohlcv_bars(sp500, timedelta(days=1), now=newest + timedelta(days=6),
                       max_age=timedelta(days=7))
    with pytest.raises(StaleInput):
        collect_ohlcv_bars(sp500, timedelta(days=1), now=newest + timedelta(days=8),
                           max_age=timedelta(days=7))


def one_bar_changed(source, column: str, value: float):
    changed = getattr(source, column).copy()
    changed[3] = value
    return with_column(source, **{column: changed})


@pytest.mark.parametrize(("column", "value", "error"), [
    ("close", math.nan, NonFiniteInput),
    ("high", math.inf, NonFiniteInput),
    ("low", -1.0, NonPositivePrice),
    ("open", 0.0, NonPositivePrice),
    ("volume", -5.0, NonPositivePrice),
    ("high", 1.0, MalformedInput),
    ("low", 1e9, MalformedInput),
])
def test_collect__refuses_bad_bars(sp500, column, value, error) -> None:
    with pytest.raises(error):
        collect_ohlcv_bars(one_bar_changed(sp500.slice(0, 10), column, value), timedelta(days=1))


def test_collect__refuses_unordered_or_ragged_or_empty_bars(sp500) -> None:
    window = sp500.slice(0, 10)
    with pytest.raises(MalformedInput):
        collect_ohlcv_bars(with_column(window, time=window.time[::-1]), timedelta(days=1))
    with pytest.raises(MalformedInput):
        collect_ohlcv_bars(with_column(window, volume=window.volume[:5]), timedelta(days=1))
    with pytest.raises(EmptyInput):
        collect_ohlcv_bars(sp500.slice(0, 0), timedelta(days=1))


def test_collect__refuses_bad_parameters(sp500) -> None:
    with pytest.raises(InvalidParameter):
        collect_ohlcv_bars(sp500, timedelta(0))
    with pytest.raises(InvalidParameter):
        collect_ohlcv_bars(sp500, timedelta(days=1), max_age=timedelta(days=1))


def test_vwap__hand_computed() -> None:
    two = bars([10, 20], [12, 22], [9, 18], [11, 20], [100, 300])
    # typical prices 32/3 and 20; (32/3 * 100 + 20 * 300) / 400
    assert compute_vwap(two) == pytest.approx((32 / 3 * 100 + 20 * 300) / 400, rel=1e-15)


def test_vwap__matches_pandas(sp500, eurusd) -> None:
    for source in (sp500, eurusd):
        assert compute_vwap(source) == pytest.approx(reference.vwap(source), rel=1e-12)


def test_vwap__refuses_bars_without_volume() -> None:
    with pytest.raises(EmptyInput):
        compute_vwap(bars([10], [12], [9], [11], [0]))


@st.composite
def ohlcv(draw, min_size: int = 1):
    size = draw(st.integers(min_size, 25))
    rows = []
    for _ in range(size):
        low = draw(st.floats(1.0, 1e4))
        high = low * draw(st.floats(1.0, 1.5))
        open_, close = (low + (high - low) * draw(st.floats(0, 1)) for _ in range(2))
        rows.append((min(max(open_, low), high), high, low, min(max(close, low), high),
                     draw(st.floats(0, 1e6))))
    return bars(*zip(*rows, strict=True))


@PROPERTIES
@given(ohlcv())
def test_vwap__lies_between_the_lowest_low_and_the_highest_high(source) -> None:
    if source.volume.sum() == 0:
        return
    vwap = compute_vwap(source)
    assert source.low.min() * (1 - 1e-12) <= vwap <= source.high.max() * (1 + 1e-12)


def test_volatility__matches_pandas(sp500) -> None:
    for start in (0, 1000, 2300, 4000):
        window = sp500.slice(start, start + 60)
        ours = compute_realized_volatility(window)
        assert (ours.close_to_close, ours.parkinson, ours.garman_klass) == pytest.approx(
            reference.realized_volatility(window), rel=1e-10)


def test_volatility__hand_computed_three_bars() -> None:
    three = bars([100, 110, 99], [110, 121, 110], [100, 99, 90], [110, 99, 108.9], [1, 1, 1])
    result = compute_realized_volatility(three, periods_per_year=1)
    returns = [math.log(0.9), math.log(1.1)]
    mean = sum(returns) / 2
    assert result.close_to_close == pytest.approx(
        math.sqrt(sum((r - mean) ** 2 for r in returns)), rel=1e-12)
    ranges = [math.log(1.1) ** 2, math.log(121 / 99) ** 2, math.log(110 / 90) ** 2]
    assert result.parkinson == pytest.approx(
        math.sqrt(sum(ranges) / 3 / (4 * math.log(2))), rel=1e-12)
    bodies = [math.log(1.1) ** 2, math.log(0.9) ** 2, math.log(1.1) ** 2]
    assert result.garman_klass == pytest.approx(math.sqrt(sum(
        0.5 * h - (2 * math.log(2) - 1) * b for h, b in zip(ranges, bodies, strict=True)) / 3),
        rel=1e-12)


def test_volatility__annualises_with_the_square_root_of_periods(sp500) -> None:
    window = sp500.slice(0, 60)
    daily = compute_realized_volatility(window, periods_per_year=1)
    yearly = compute_realized_volatility(window, periods_per_year=252)
    assert yearly.parkinson == pytest.approx(daily.parkinson * math.sqrt(252), rel=1e-12)


@PROPERTIES
@given(ohlcv(min_size=3))
def test_volatility__is_never_negative(source) -> None:
    result = compute_realized_volatility(source)
    assert min(result.close_to_close, result.parkinson, result.garman_klass) >= 0


def test_volatility__refuses_too_few_bars_and_bad_periods(sp500) -> None:
    with pytest.raises(EmptyInput):
        compute_realized_volatility(sp500.slice(0, 2))
    with pytest.raises(InvalidParameter):
        compute_realized_volatility(sp500.slice(0, 10), periods_per_year=0)
