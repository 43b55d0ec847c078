from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats

from node.errors import EmptyInput, InvalidParameter, NonFiniteInput, NonPositivePrice
from node.guardian.risk import (
    compute_drawdown,
    compute_exposure_concentration,
    compute_var_ewma,
    compute_var_historical,
)
from node.oracle.refusals import MalformedInput
from tests.node.guardian import pandas_reference as reference
from tests.node.oracle.builders import PROPERTIES

returns_strategy = hnp.arrays(np.float64, st.integers(100, 400),
                              elements=st.floats(-0.5, 0.5, allow_nan=False))


def test_var_historical__hand_computed_losses_one_to_hundred() -> None:
    # one unit long, returns -1%..-100%... scaled: losses 1..100 for a position of 100
    returns = -np.arange(1, 101) / 100.0 * 0.5
    result = compute_var_historical([200.0], returns)
    # losses 1..100; linear 99% quantile = 1 + 0.99 * 99 = 99.01; tail {100}
    assert result.var == pytest.approx(99.01)
    assert result.es == pytest.approx(100.0)
    assert result.observations == 100


def test_var_historical__matches_pandas_quantile_on_two_indices(index_returns) -> None:
    positions = [1_000_000.0, -400_000.0]
    result = compute_var_historical(positions, index_returns.to_numpy())
    var, es = reference.var_historical(positions, index_returns, 0.99)
    assert result.var == pytest.approx(var, rel=1e-12)
    assert result.es == pytest.approx(es, rel=1e-12)


def test_var_historical__of_normal_returns_approaches_the_normal_quantile() -> None:
    sigma = 0.02
    returns = np.random.default_rng(7).normal(0.0, sigma, 400_000)
    result = compute_var_historical([1.0], returns)
    assert result.var == pytest.approx(stats.norm.ppf(0.99) * sigma, rel=0.02)
    normal_es = sigma * stats.norm.pdf(stats.norm.ppf(0.99)) / 0.01
    assert result.es == pytest.approx(normal_es, rel=0.02)


@PROPERTIES
@given(returns_strategy, st.floats(-1e6, 1e6, allow_nan=False),
       st.sampled_from([0.95, 0.975, 0.99]))
def test_var_historical__expected_shortfall_is_never_below_var(returns, position,
                                                               confidence) -> None:
    result = compute_var_historical([position], returns, confidence)
    assert result.es >= result.var - 1e-9 * max(1.0, abs(result.var))


@pytest.mark.parametrize(("positions", "returns", "confidence", "error"), [
    ([1.0], np.zeros(99), 0.99, EmptyInput),
    ([1.0], np.zeros(0), 0.95, EmptyInput),
    ([1.0], np.full(200, math.nan), 0.99, NonFiniteInput),
    ([math.inf], np.zeros(200), 0.99, NonFiniteInput),
    ([1.0, 2.0], np.zeros((200, 3)), 0.99, MalformedInput),
    ([1.0], np.full(200, -1.0), 0.99, MalformedInput),
    ([1.0], np.zeros(200), 1.0, InvalidParameter),
    ([1.0], np.zeros(200), 0.3, InvalidParameter),
    ([], np.zeros(200), 0.99, EmptyInput),
])
def test_var_historical__refuses_bad_input(positions, returns, confidence, error) -> None:
    with pytest.raises(error):
        compute_var_historical(positions, returns, confidence)


def test_var_ewma__hand_computed_two_day_case() -> None:
    # lambda 0.5: weights 0.5 (older), 1 (newer); var = (0.5*1e-4 + 4e-4) / 1.5 = 3e-4
    result = compute_var_ewma([1_000_000.0], [0.01, -0.02], decay=0.5)
    sigma = 1_000_000.0 * math.sqrt(3e-4)
    assert result.sigma == pytest.approx(sigma)
    assert result.var == pytest.approx(stats.norm.ppf(0.99) * sigma)
    assert result.es == pytest.approx(sigma * stats.norm.pdf(stats.norm.ppf(0.99)) / 0.01)
    assert not result.forecast


def test_var_ewma__matches_pandas_ewm_covariance(index_returns) -> None:
    recent = index_returns.iloc[-750:]
    positions = [1_000_000.0, -400_000.0]
    result = compute_var_ewma(positions, recent.to_numpy())
    var, es, sigma = reference.var_ewma(positions, recent, 0.99, 0.94)
    assert (result.var, result.es, result.sigma) == pytest.approx((var, es, sigma), rel=1e-10)


def test_var_ewma__forecast_replaces_volatilities_and_keeps_correlation(index_returns) -> None:
    recent = index_returns.iloc[-750:].to_numpy()
    positions = np.array([1_000_000.0, 500_000.0])
    forecast = np.array([0.03, 0.01])
    result = compute_var_ewma(positions, recent, sigma_forecast=forecast)
    weights = 0.94 ** np.arange(len(recent) - 1, -1, -1)
    covariance = np.cov(recent.T, aweights=weights, bias=True) + np.outer(
        *(2 * [np.average(recent, axis=0, weights=weights)]))
    correlation = covariance[0, 1] / math.sqrt(covariance[0, 0] * covariance[1, 1])
    exposure = positions * forecast
    expected = math.sqrt(exposure[0] ** 2 + exposure[1] ** 2
                         + 2 * correlation * exposure[0] * exposure[1])
    assert result.sigma == pytest.approx(expected, rel=1e-9)
    assert result.forecast


def test_var_ewma__one_instrument_forecast_is_the_sigma() -> None:
    result = compute_var_ewma([2_000.0], [0.0, 0.0, 0.0], sigma_forecast=[0.05])
    assert result.sigma == pytest.approx(100.0)


@PROPERTIES
@given(returns_strategy, st.floats(-1e6, 1e6, allow_nan=False))
def test_var_ewma__expected_shortfall_exceeds_var(returns, position) -> None:
    result = compute_var_ewma([position], returns)
    assert result.es >= result.var >= 0


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"decay": 1.0}, InvalidParameter),
    ({"decay": 0.0}, InvalidParameter),
    ({"confidence": 1.2}, InvalidParameter),
    ({"sigma_forecast": [0.01, 0.02, 0.03]}, MalformedInput),
    ({"sigma_forecast": [-0.01, 0.02]}, NonPositivePrice),
    ({"sigma_forecast": [math.nan, 0.02]}, NonFiniteInput),
])
def test_var_ewma__refuses_bad_parameters(kwargs, error) -> None:
    with pytest.raises(error):
        compute_var_ewma([1.0, 1.0], np.full((10, 2), 0.01), **kwargs)


def test_var_ewma__refuses_a_forecast_for_an_instrument_without_returns() -> None:
    returns = np.column_stack([np.full(10, 0.01), np.zeros(10)])
    with pytest.raises(EmptyInput):
        compute_var_ewma([1.0, 1.0], returns, sigma_forecast=[0.01, 0.02])


def test_drawdown__known_equity_curve() -> None:
    result = compute_drawdown([100.0, 120.0, 90.0, 130.0, 117.0])
    assert result.maximum == pytest.approx(0.25)
    assert result.current == pytest.approx(0.10)
    assert (result.peak, result.peak_index, result.trough_index) == (130.0, 1, 2)


def test_drawdown__matches_pandas_cummax_on_the_sp500(sp500_closes) -> None:
    closes = sp500_closes[1]
    result = compute_drawdown(closes)
    assert (result.current, result.maximum) == pytest.approx(reference.drawdown(closes),
                                                             rel=1e-12)
    assert 0.5 < result.maximum < 0.6  # 2007-2009: the S&P 500 lost about 57%


@PROPERTIES
@given(hnp.arrays(np.float64, st.integers(1, 200), elements=st.floats(1e-3, 1e9)))
def test_drawdown__lies_in_unit_interval_and_maximum_bounds_current(equity) -> None:
    result = compute_drawdown(equity)
    assert 0 <= result.current <= result.maximum <= 1
    assert result.peak_index <= result.trough_index


@pytest.mark.parametrize(("equity", "error"), [
    ([], EmptyInput), ([100.0, 0.0], NonPositivePrice), ([100.0, -5.0], NonPositivePrice),
    ([100.0, math.nan], NonFiniteInput), ([[100.0, 90.0]], MalformedInput),
])
def test_drawdown__refuses_bad_input(equity, error) -> None:
    with pytest.raises(error):
        compute_drawdown(equity)


def test_exposure__hand_computed_herfindahl() -> None:
    result = compute_exposure_concentration(["A", "B", "C"], [10.0, -5.0, 0.0],
                                            [100.0, 40.0, 10.0])
    # values 1000, -200, 0: gross 1200, net 800, shares 5/6, 1/6
    assert (result.gross, result.net) == (1200.0, 800.0)
    assert result.herfindahl == pytest.approx(26 / 36)
    assert (result.largest_share, result.largest) == (pytest.approx(5 / 6), "A")


def test_exposure__flat_book_has_no_concentration() -> None:
    result = compute_exposure_concentration(["A", "B"], [0.0, 0.0], [10.0, 20.0])
    assert (result.gross, result.herfindahl, result.largest) == (0.0, 0.0, None)


@PROPERTIES
@given(st.lists(st.tuples(st.floats(-1e6, 1e6), st.floats(1e-2, 1e5)), min_size=1,
                max_size=30))
def test_exposure__herfindahl_between_one_over_n_and_one(rows) -> None:
    quantities, prices = zip(*rows, strict=True)
    names = [f"I{index}" for index in range(len(rows))]
    result = compute_exposure_concentration(names, quantities, prices)
    if result.gross == 0:
        return
    expected = reference.exposure(names, quantities, prices)
    assert result.herfindahl == pytest.approx(expected[2], rel=1e-9)
    assert 1 / len(rows) - 1e-12 <= result.herfindahl <= 1 + 1e-12
    assert abs(result.net) <= result.gross * (1 + 1e-12)


@pytest.mark.parametrize(("names", "quantities", "prices", "error"), [
    (["A"], [1.0], [0.0], NonPositivePrice),
    (["A"], [math.nan], [1.0], NonFiniteInput),
    (["A", "B"], [1.0], [1.0, 2.0], MalformedInput),
    (["A", "A"], [1.0, 2.0], [1.0, 2.0], MalformedInput),
    (["A"], [1.0, 2.0], [1.0, 2.0], MalformedInput),
    ([], [], [], EmptyInput),
])
def test_exposure__refuses_bad_input(names, quantities, prices, error) -> None:
    with pytest.raises(error):
        compute_exposure_concentration(names, quantities, prices)


def test_exposure__matches_pandas_on_a_portfolio() -> None:
    names, quantities, prices = ["SP500", "NASDAQ", "GOOG"], [3.0, -2.0, 10.0], [2500.0,
                                                                                 7000.0, 1000.0]
    result = compute_exposure_concentration(names, quantities, prices)
    expected = reference.exposure(names, quantities, prices)
    assert (result.gross, result.net, result.herfindahl, result.largest_share) == pytest.approx(
        expected[:4])
    assert result.largest == expected[4]


def test_var_historical__pandas_frame_and_numpy_agree(index_returns) -> None:
    frame = pd.DataFrame(index_returns)
    assert compute_var_historical([1.0, 1.0], frame).var == compute_var_historical(
        [1.0, 1.0], frame.to_numpy()).var
