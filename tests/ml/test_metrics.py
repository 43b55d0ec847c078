from __future__ import annotations

import math

import numpy as np
import pytest

from ml import metrics


def test_qlike_is_zero_at_the_truth_and_punishes_under_prediction_more() -> None:
    proxy = np.array([1e-4, 4e-4, 2.5e-5])
    assert metrics.qlike(proxy, proxy) == 0.0
    assert metrics.qlike(proxy, proxy / 2) > metrics.qlike(proxy, proxy * 2) > 0
    assert metrics.qlike(np.array([2.0]), np.array([1.0])) == pytest.approx(1 - math.log(2))


def test_mse_is_on_percent_squared_variances() -> None:
    assert metrics.mse(np.array([1e-4, 3e-4]), np.array([2e-4, 3e-4])) == pytest.approx(0.5)


def test_newey_west_variance_by_hand() -> None:
    values = np.array([1.0, -1.0, 2.0, 0.0, 3.0])
    # centred: 0, -2, 1, -1, 2; gamma0 = 10/5 = 2; gamma1 = -5/5 = -1; weight 1 - 1/2
    assert metrics.newey_west_variance(values, 0) == pytest.approx(2.0)
    assert metrics.newey_west_variance(values, 1) == pytest.approx(2.0 + 2 * 0.5 * -1.0)


def test_diebold_mariano_by_hand() -> None:
    losses_a = np.array([2.0, 0.0, 3.0, 1.0, 4.0])
    losses_b = np.ones(5)
    # differential 1, -1, 2, 0, 3: mean 1, Newey-West variance (lag 1) 1, so t = 1/sqrt(1/5)
    assert metrics.diebold_mariano(losses_a, losses_b, lag=1) == pytest.approx(math.sqrt(5))
    assert metrics.diebold_mariano(losses_b, losses_a, lag=1) == pytest.approx(-math.sqrt(5))


def test_diebold_mariano_detects_a_better_forecast() -> None:
    rng = np.random.default_rng(3)
    truth = np.exp(rng.normal(-9, 0.5, 2000))
    proxy = truth * rng.chisquare(1, 2000)
    good, bad = metrics.qlike_losses(proxy, truth), metrics.qlike_losses(proxy, truth * 2.5)
    assert metrics.diebold_mariano(good, bad) < -1.96
    assert metrics.newey_west_lag(1000) == 6
