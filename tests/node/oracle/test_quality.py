from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import median_abs_deviation

from node.errors import EmptyInput, InvalidParameter, NonFiniteInput, NonPositivePrice, StaleInput
from node.oracle.quality import detect_source_outliers, validate_observation
from node.oracle.refusals import ImplausiblePrice, MalformedInput
from node.sources.market import from_ns
from tests.node.oracle import pandas_reference as reference
from tests.node.oracle.builders import AT, PROPERTIES

MAX_AGE = timedelta(minutes=5)


def minutes_before(*offsets: int) -> np.ndarray:
    end = np.datetime64(AT.replace(tzinfo=None), "ns")
    return end - np.array(offsets, dtype="timedelta64[m]").astype("timedelta64[ns]")


def history(count: int = 30, sigma: float = 1e-3, seed: int = 1):
    """`count` prices a minute apart ending a minute before AT, log-returns N(0, sigma)."""
    steps = np.random.default_rng(seed).normal(0, sigma, count - 1)
    values = 100.0 * np.exp(np.concatenate(([0.0], np.cumsum(steps))))
    return minutes_before(*range(count, 0, -1)), values


def test_validate__accepts_a_fresh_plausible_value() -> None:
    times, values = history()
    result = validate_observation(values[-1] * 1.001, AT - timedelta(seconds=30), AT, times,
                                  values, max_age=MAX_AGE)
    assert result.age == timedelta(seconds=30)
    assert result.jump_sigmas == pytest.approx(reference.jump_sigmas(
        values[-1] * 1.001, AT - timedelta(seconds=30), times, values), rel=1e-9)
    assert 0 < result.jump_sigmas < 10


def test_validate__refuses_a_jump_of_too_many_sigmas() -> None:
    times, values = history(sigma=1e-3)
    with pytest.raises(ImplausiblePrice):
        validate_observation(values[-1] * 1.02, AT, AT, times, values, max_age=MAX_AGE)


def test_validate__allows_a_larger_move_after_a_longer_gap() -> None:
    times, values = history(sigma=1e-3)
    later = from_ns(int(times[-1].astype(np.int64))) + timedelta(hours=4)
    result = validate_observation(values[-1] * 1.02, later, later, times, values,
                                  max_age=MAX_AGE)
    assert result.jump_sigmas == pytest.approx(
        reference.jump_sigmas(values[-1] * 1.02, later, times, values), rel=1e-9)
    assert result.jump_sigmas < 10


def test_validate__skips_the_jump_test_on_a_short_or_flat_history() -> None:
    times, values = history(count=5)
    assert validate_observation(1e4, AT, AT, times, values, max_age=MAX_AGE).jump_sigmas is None
    flat_times, _ = history(count=20)
    flat = np.full(20, 100.0)
    assert validate_observation(1e4, AT, AT, flat_times, flat, max_age=MAX_AGE).jump_sigmas is None


def test_validate__bounds_are_inclusive() -> None:
    times, values = history(count=3)
    validate_observation(50.0, AT, AT, times, values, max_age=MAX_AGE, bounds=(50.0, 150.0))
    with pytest.raises(ImplausiblePrice):
        validate_observation(151.0, AT, AT, times, values, max_age=MAX_AGE, bounds=(50.0, 150.0))


@pytest.mark.parametrize(("value", "observed_at", "error"), [
    (math.nan, AT, NonFiniteInput),
    (math.inf, AT, NonFiniteInput),
    (0.0, AT, NonPositivePrice),
    (-1.0, AT, NonPositivePrice),
    (100.0, AT - timedelta(minutes=6), StaleInput),
    (100.0, AT + timedelta(seconds=1), MalformedInput),
    (100.0, AT.replace(tzinfo=None), InvalidParameter),
])
def test_validate__refuses_bad_observations(value, observed_at, error) -> None:
    times, values = history()
    with pytest.raises(error):
        validate_observation(value, observed_at, AT, times, values, max_age=MAX_AGE)


@pytest.mark.parametrize("kwargs", [
    {"max_age": timedelta(0)},
    {"max_age": MAX_AGE, "bounds": (150.0, 50.0)},
    {"max_age": MAX_AGE, "max_jump_sigmas": 0},
    {"max_age": MAX_AGE, "min_history": 1},
])
def test_validate__refuses_bad_parameters(kwargs) -> None:
    times, values = history()
    with pytest.raises(InvalidParameter):
        validate_observation(100.0, AT, AT, times, values, **kwargs)


def test_validate__refuses_a_bad_history() -> None:
    times, values = history()
    broken = values.copy()
    broken[3] = math.nan
    with pytest.raises(NonFiniteInput):
        validate_observation(100.0, AT, AT, times, broken, max_age=MAX_AGE)
    with pytest.raises(MalformedInput):
        validate_observation(100.0, AT, AT, times[::-1], values, max_age=MAX_AGE)
    with pytest.raises(MalformedInput):
        validate_observation(100.0, AT, AT, times[:-1], values, max_age=MAX_AGE)


def test_outliers__flags_a_biased_source() -> None:
    result = detect_source_outliers(["a", "b", "c", "d", "e"],
                                    [100.0, 100.02, 99.99, 100.01, 102.0])
    assert result.outliers == ("e",)
    assert result.kept == ("a", "b", "c", "d")
    assert result.median == 100.01


def test_outliers__scores_match_scipy_mad_and_pandas(sp500) -> None:
    rng = np.random.default_rng(2)
    names = [f"s{i}" for i in range(7)]
    for close in sp500.close[:200:10]:
        prices = close * np.exp(rng.normal(0, 5e-4, 7))
        prices[rng.integers(7)] *= 1.01
        result = detect_source_outliers(names, prices)
        median = np.median(prices)
        mad = max(median_abs_deviation(prices), 1e-4 * median)
        np.testing.assert_allclose(result.scores, 0.6745 * (prices - median) / mad, rtol=1e-12)
        assert list(result.outliers) == reference.source_outliers(names, prices)


def test_outliers__floor_keeps_identical_sources_from_flagging_a_tiny_difference() -> None:
    result = detect_source_outliers(["a", "b", "c", "d"], [100.0, 100.0, 100.0, 100.005])
    assert result.outliers == ()
    assert result.mad == pytest.approx(0.01)


@PROPERTIES
@given(st.lists(st.floats(1.0, 1e5), min_size=3, max_size=15))
def test_outliers__at_most_half_the_sources_are_outliers(prices) -> None:
    names = [str(i) for i in range(len(prices))]
    result = detect_source_outliers(names, prices)
    assert len(result.outliers) <= len(prices) // 2
    assert sorted(result.outliers + result.kept) == sorted(names)


@pytest.mark.parametrize(("names", "prices", "error"), [
    (["a", "b"], [100.0, 101.0], EmptyInput),
    (["a", "b", "c"], [100.0, 101.0], MalformedInput),
    (["a", "a", "c"], [100.0, 101.0, 102.0], MalformedInput),
    (["a", "b", "c"], [100.0, math.nan, 102.0], NonFiniteInput),
    (["a", "b", "c"], [100.0, -1.0, 102.0], NonPositivePrice),
])
def test_outliers__refuses_bad_input(names, prices, error) -> None:
    with pytest.raises(error):
        detect_source_outliers(names, prices)


def test_outliers__refuses_bad_parameters() -> None:
    for kwargs in ({"threshold": 0}, {"mad_floor": 0}):
        with pytest.raises(InvalidParameter):
            detect_source_outliers(["a", "b", "c"], [1.0, 2.0, 3.0], **kwargs)
