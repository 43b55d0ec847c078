from __future__ import annotations

import math
import statistics
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from node.errors import EmptyInput, InvalidParameter, NonFiniteInput, NonPositivePrice
from node.oracle.aggregation import (
    aggregate_confidence_weighted_price,
    aggregate_median_price,
    compute_twap,
    should_publish_update,
)
from node.oracle.refusals import MalformedInput
from tests.node.oracle import pandas_reference as reference
from tests.node.oracle.builders import AT, PROPERTIES

prices = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False)


def test_median__odd_count_is_the_middle_observation() -> None:
    assert aggregate_median_price([101.0, 99.0, 100.0, 250.0, 98.0], f=2) == 100.0


def test_median__even_count_takes_the_upper_middle_as_ocr2() -> None:
    assert aggregate_median_price([1.0, 4.0, 2.0, 3.0], f=1) == 3.0


def test_median__matches_pandas_higher_quantile(sp500) -> None:
    closes = sp500.close[:40]
    for count in range(3, 40):
        assert aggregate_median_price(closes[:count], f=1) == reference.median_price(closes[:count])


@PROPERTIES
@given(st.lists(prices, min_size=1, max_size=31), st.integers(0, 15))
def test_median__lies_within_the_observations(values, f) -> None:
    if len(values) < 2 * f + 1:
        with pytest.raises(EmptyInput):
            aggregate_median_price(values, f)
        return
    median = aggregate_median_price(values, f)
    assert median in values
    assert min(values) <= median <= max(values)


@PROPERTIES
@given(st.lists(prices, min_size=3, max_size=3), st.lists(prices, min_size=2, max_size=2))
def test_median__f_faulty_values_cannot_leave_the_honest_range(honest, faulty) -> None:
    median = aggregate_median_price(honest + faulty, f=2)
    assert min(honest) <= median <= max(honest)


@pytest.mark.parametrize(("values", "f", "error"), [
    ([100.0, 101.0], 1, EmptyInput),
    ([], 0, EmptyInput),
    ([100.0, math.nan, 101.0], 1, NonFiniteInput),
    ([100.0, math.inf, 101.0], 1, NonFiniteInput),
    ([100.0, -1.0, 101.0], 1, NonPositivePrice),
    ([100.0, 0.0, 101.0], 1, NonPositivePrice),
    ([100.0, 101.0, 102.0], -1, InvalidParameter),
    ([100.0, 101.0, 102.0], 1.5, InvalidParameter),
    ([[100.0, 101.0, 102.0]], 1, MalformedInput),
])
def test_median__refuses_bad_input(values, f, error) -> None:
    with pytest.raises(error):
        aggregate_median_price(values, f)


def test_confidence_weighted__hand_computed_pyth_case() -> None:
    # votes: 9 10 11 | 10 10.5 11 | 14 20 26 -> sorted 9 10 10 10.5 11 11 14 20 26
    # p50 = votes[4] = 11; p25 = votes[2] = 10; p75 = votes[6] = 14 -> conf = max(1, 3) = 3
    result = aggregate_confidence_weighted_price([10.0, 10.5, 20.0], [1.0, 0.5, 6.0])
    assert (result.price, result.confidence) == (11.0, 3.0)


def test_confidence_weighted__even_vote_count_averages_the_middle_pair() -> None:
    # votes 9 10 11 | 11 12 13 -> p50 = (11 + 11) / 2, p25 = votes[1] = 10, p75 = votes[4] = 12
    result = aggregate_confidence_weighted_price([10.0, 12.0], [1.0, 1.0])
    assert (result.price, result.confidence) == (11.0, 1.0)


def test_confidence_weighted__matches_pandas(sp500) -> None:
    rng = np.random.default_rng(3)
    for count in range(1, 30):
        values = sp500.close[100:100 + count]
        confidences = values * rng.uniform(1e-4, 1e-2, count)
        ours = aggregate_confidence_weighted_price(values, confidences)
        assert (ours.price, ours.confidence) == pytest.approx(
            reference.confidence_weighted_price(values, confidences), rel=1e-12)


def test_confidence_weighted__tight_publisher_outweighs_a_wide_one() -> None:
    result = aggregate_confidence_weighted_price([100.0, 100.0, 110.0], [0.1, 0.1, 50.0])
    assert result.price == 100.0


@PROPERTIES
@given(st.lists(st.tuples(prices, st.floats(0, 1e3)), min_size=1, max_size=20))
def test_confidence_weighted__price_is_the_median_vote(pairs) -> None:
    values, confidences = zip(*pairs, strict=True)
    votes = [p + sign * c for p, c in pairs for sign in (-1, 0, 1)]
    result = aggregate_confidence_weighted_price(values, confidences)
    assert result.price == pytest.approx(statistics.median(votes), rel=1e-12)
    assert result.confidence >= 0


@pytest.mark.parametrize(("values", "confidences", "error"), [
    ([100.0, 101.0], [1.0], MalformedInput),
    ([100.0], [-1.0], NonPositivePrice),
    ([100.0], [math.nan], NonFiniteInput),
    ([-100.0], [1.0], NonPositivePrice),
    ([], [], EmptyInput),
])
def test_confidence_weighted__refuses_bad_input(values, confidences, error) -> None:
    with pytest.raises(error):
        aggregate_confidence_weighted_price(values, confidences)


def test_confidence_weighted__refuses_fewer_publishers_than_required() -> None:
    with pytest.raises(EmptyInput):
        aggregate_confidence_weighted_price([100.0, 101.0], [1.0, 1.0], min_publishers=3)


def hours(*offsets: float) -> np.ndarray:
    start = np.datetime64(AT.replace(tzinfo=None), "ns")
    return start + np.array([int(h * 3_600e9) for h in offsets], dtype="timedelta64[ns]")


def test_twap__hand_computed_geometric_mean() -> None:
    times = hours(-3, -2, -1)
    # 100 held for one hour of the two-hour window, 400 for the other: sqrt(100 * 400) = 200
    assert compute_twap(times, [50.0, 100.0, 400.0], AT, timedelta(hours=2)) == pytest.approx(200)


def test_twap__price_in_force_at_the_window_start_counts_from_there() -> None:
    times = hours(-10, -0.5)
    twap = compute_twap(times, [100.0, 200.0], AT, timedelta(hours=1))
    assert twap == pytest.approx(math.sqrt(100 * 200))


def test_twap__ignores_observations_after_the_window_end() -> None:
    times = hours(-2, 1)
    assert compute_twap(times, [100.0, 1e6], AT, timedelta(hours=1)) == pytest.approx(100)


def test_twap__matches_pandas_on_replayed_closes(eurusd) -> None:
    times, closes = eurusd.time[:500], eurusd.close[:500]
    end = AT.replace(year=2017, month=5, day=1)
    for window in (timedelta(hours=6), timedelta(days=3), timedelta(days=10)):
        assert compute_twap(times, closes, end, window) == pytest.approx(
            reference.twap(times, closes, end, window), rel=1e-12)


@PROPERTIES
@given(prices, st.lists(st.integers(1, 10_000), min_size=1, max_size=30),
       st.integers(1, 100_000))
def test_twap__of_a_constant_series_is_the_constant(price, gaps, window_seconds) -> None:
    times = hours(-1000) + np.cumsum(np.array(gaps, dtype="timedelta64[s]")).astype(
        "timedelta64[ns]")
    twap = compute_twap(times, [price] * len(gaps), AT, timedelta(seconds=window_seconds))
    assert twap == pytest.approx(price, rel=1e-12)


@PROPERTIES
@given(st.lists(prices, min_size=2, max_size=30))
def test_twap__lies_between_min_and_max_and_below_the_arithmetic_twap(values) -> None:
    times = hours(*range(-len(values), 0))
    window = timedelta(hours=len(values) - 1)
    twap = compute_twap(times, values, AT, window)
    arithmetic = np.mean(values[1:])
    assert min(values) * (1 - 1e-12) <= twap <= max(values) * (1 + 1e-12)
    assert twap <= arithmetic * (1 + 1e-12)


@pytest.mark.parametrize(("times", "values", "window", "error"), [
    (hours(-1), [100.0], timedelta(hours=2), EmptyInput),
    (hours(-3, -2), [100.0], timedelta(hours=1), MalformedInput),
    (hours(-2, -3), [100.0, 101.0], timedelta(hours=1), MalformedInput),
    (hours(-2, -1), [100.0, math.nan], timedelta(hours=1), NonFiniteInput),
    (hours(-2, -1), [100.0, 0.0], timedelta(hours=1), NonPositivePrice),
    (hours(-2, -1), [100.0, 101.0], timedelta(0), InvalidParameter),
    ([1.5, 2.5], [100.0, 101.0], timedelta(hours=1), MalformedInput),
])
def test_twap__refuses_bad_input(times, values, window, error) -> None:
    with pytest.raises(error):
        compute_twap(times, values, AT, window)


def test_twap__refuses_a_naive_end() -> None:
    with pytest.raises(InvalidParameter):
        compute_twap(hours(-2), [100.0], AT.replace(tzinfo=None), timedelta(hours=1))


HEARTBEAT = timedelta(minutes=1)


@pytest.mark.parametrize(("last", "age", "new", "publish", "reason"), [
    (None, None, 100.0, True, "first"),
    (100.0, timedelta(seconds=1), 100.5, True, "deviation"),
    (100.0, timedelta(seconds=1), 99.5, True, "deviation"),
    (100.0, timedelta(seconds=1), 100.49, False, None),
    (100.0, timedelta(minutes=1), 100.0, True, "heartbeat"),
    (100.0, timedelta(seconds=59), 100.0, False, None),
    (100.0, timedelta(minutes=5), 101.0, True, "deviation"),
])
def test_publish__deviation_or_heartbeat(last, age, new, publish, reason) -> None:
    decision = should_publish_update(last, None if age is None else AT - age, new, AT, 0.005,
                                     HEARTBEAT)
    assert (decision.publish, decision.reason) == (publish, reason)
    if age is not None:
        assert publish == reference.should_publish(last, AT - age, new, AT, 0.005, HEARTBEAT)


@pytest.mark.parametrize(("last", "updated", "new", "threshold", "heartbeat", "error"), [
    (100.0, AT, math.nan, 0.005, HEARTBEAT, NonFiniteInput),
    (100.0, AT, -1.0, 0.005, HEARTBEAT, NonPositivePrice),
    (0.0, AT, 100.0, 0.005, HEARTBEAT, NonPositivePrice),
    (100.0, AT, 100.0, 0.0, HEARTBEAT, InvalidParameter),
    (100.0, AT, 100.0, 1.5, HEARTBEAT, InvalidParameter),
    (100.0, AT, 100.0, 0.005, timedelta(0), InvalidParameter),
    (100.0, None, 100.0, 0.005, HEARTBEAT, MalformedInput),
    (100.0, AT + timedelta(seconds=1), 100.0, 0.005, HEARTBEAT, MalformedInput),
])
def test_publish__refuses_bad_input(last, updated, new, threshold, heartbeat, error) -> None:
    with pytest.raises(error):
        should_publish_update(last, updated, new, AT, threshold, heartbeat)
